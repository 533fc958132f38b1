// The Office dialog's sign-in page: a Sagspost account gives the pane a personal API token.
import { Api } from "./api.js";
import { loadOffice } from "./loader.js";

const ready = loadOffice();
const form = document.getElementById("signin");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("error");
  error.textContent = "";
  try {
    const session = await new Api().post("/api/addin/sign-in", Object.fromEntries(new FormData(form)));
    await ready;
    Office.context.ui.messageParent(JSON.stringify(session));
  } catch (err) {
    error.textContent = err.message;
  }
});
