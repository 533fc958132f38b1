// Small DOM helpers and the pieces every host's pane shares.
import { t } from "./i18n.js";

/** h("button.primary", {onclick}, "text", child…) */
export function h(spec, props = {}, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag);
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(props || {})) {
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(key, value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function notice(kind, text) {
  const box = document.getElementById("notice");
  box.replaceChildren(text ? h(`div.banner.${kind}`, { "data-kind": kind }, text) : "");
}

/** Run a long action with a progress bar and the error shown as an actionable sentence. */
export async function busy(button, label, action) {
  const bar = h("progress", { "aria-label": label });
  const text = h("span.muted", {}, label);
  const box = h("div.busy", {}, text, bar);
  button.disabled = true;
  button.after(box);
  notice("", "");
  try {
    return await action((fraction, message) => {
      if (fraction !== null && fraction !== undefined) bar.value = fraction;
      if (message) text.textContent = message;
    });
  } catch (err) {
    notice("error", err.message);
    return undefined;
  } finally {
    button.disabled = false;
    box.remove();
  }
}

export function select(name, options, { empty = null, value = null } = {}) {
  const el = h("select", { name });
  if (empty !== null) el.append(h("option", { value: "" }, empty));
  for (const option of options) el.append(h("option", { value: option.value, selected: option.value === value }, option.label));
  return el;
}

/**
 * Choose a case: the suggested ones first (with why), or any case found by number or text.
 * `onChange(case)` is called with the chosen case's list item.
 */
export function casePicker(api, { suggestions = [], onChange = () => {}, chosenId = null } = {}) {
  const list = h("ul.list", { "aria-label": t("chooseCase") });
  const cases = new Map();
  const show = (items) => {
    list.replaceChildren();
    if (!items.length) list.append(h("li.muted", {}, t("noCases")));
    for (const { case: c, reasons = [] } of items) {
      cases.set(c.id, c);
      const radio = h("input", { type: "radio", name: "case", value: c.id, checked: c.id === chosenId });
      radio.addEventListener("change", () => onChange(c));
      list.append(h("li", {}, h("label", {}, radio, h("span", {}, h("b", {}, c.number), " ", c.title),
        ...reasons.map((r) => h("span.chip", { "data-reason": r }, t(`reason_${r}`))))));
    }
    if (chosenId && cases.has(chosenId)) onChange(cases.get(chosenId));
  };
  const query = h("input", { type: "search", name: "q", placeholder: t("searchCase"), "aria-label": t("searchCase") });
  const run = async () => {
    try {
      const found = await api.get("/api/cases", { q: query.value.trim(), page_size: 20 });
      show(found.map((c) => ({ case: c, reasons: [] })));
    } catch (err) {
      notice("error", err.message);
    }
  };
  query.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); run(); } });
  show(suggestions);
  return h("section.case-picker", {}, h("h2", {}, t("chooseCase")), list,
    h("div.row", {}, query, h("button", { type: "button", onclick: run }, t("search"))));
}

export function checkedValues(root, name) {
  return [...root.querySelectorAll(`input[name="${name}"]:checked`)].map((el) => el.value);
}

/** A PDF shown in the pane, from a Blob. */
export function pdfFrame(blob, title) {
  return h("iframe.preview", { src: URL.createObjectURL(blob), title });
}
