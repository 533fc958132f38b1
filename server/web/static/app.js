// Sagspost's only script besides htmx: drag-and-drop upload. Pages work without it (the file input).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-dropzone]")) {
    const input = form.querySelector("input[type=file]");
    const over = (event) => {
      event.preventDefault();
      form.classList.add("dragging");
    };
    form.addEventListener("dragenter", over);
    form.addEventListener("dragover", over);
    form.addEventListener("dragleave", () => form.classList.remove("dragging"));
    form.addEventListener("drop", (event) => {
      event.preventDefault();
      form.classList.remove("dragging");
      if (!event.dataTransfer || event.dataTransfer.files.length === 0) return;
      input.files = event.dataTransfer.files;
      form.requestSubmit();
    });
  }
});
