// Word: a document from a case template, archiving the open document (and new versions of it), and
// sending it with Digital Post exactly as previewed.
import { formData } from "./api.js";
import { t } from "./i18n.js";
import { blobToBase64, officeAsync, readDocument } from "./office.js";
import { busy, casePicker, checkedValues, h, notice, pdfFrame, select } from "./ui.js";

const LINK = "sagspost.document";
const FINAL_LETTER = new Set(["delivered", "failed", "to_print", "cancelled"]);

/** The case document this Word document was saved as: {document_id, file_id, case_id, case_number}. */
export function linkedDocument(settings) {
  return settings.get(LINK) || null;
}

async function link(settings, value) {
  settings.set(LINK, value);
  await officeAsync(settings, "saveAsync").catch(() => {});
}

export function dispatchBody({ title, senderId, caseId, partyIds, numbers, copies, guardians, mainId, attachmentIds, sendAt }) {
  const common = { copies, include_guardians: guardians };
  const recipients = [
    ...partyIds.map((id) => ({ type: "contact", contact_id: id, ...common })),
    ...numbers.map((r) => ({ type: r.type, number: r.number, ...common })),
  ];
  return {
    title, sender_identity_id: senderId, case_id: caseId, recipients, main_document_id: mainId,
    attachment_document_ids: attachmentIds, send_at: sendAt ? new Date(sendAt).toISOString() : null,
  };
}

export function splitNumbers(text) {
  return String(text || "").split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
}

export async function wordPane(root, api) {
  const settings = Office.context.document.settings;
  const linked = linkedDocument(settings);
  const state = { case: null };
  const body = h("div.tab-body");
  const tabs = [["template", t("wordTemplate"), templateTab], ["archive", t("wordArchive"), archiveTab], ["post", t("wordPost"), postTab]];
  const tabBar = h("div.tabs", { role: "tablist" });
  const open = (name) => {
    for (const b of tabBar.children) b.setAttribute("aria-selected", String(b.dataset.tab === name));
    const [, , render] = tabs.find(([n]) => n === name);
    body.replaceChildren();
    if (state.case) render(body, api, state, settings);
  };
  for (const [name, label] of tabs) tabBar.append(h("button", { type: "button", role: "tab", dataset: { tab: name }, onclick: () => open(name) }, label));
  const current = () => tabBar.querySelector("[aria-selected=true]")?.dataset.tab || "archive";
  const suggestions = await api.get("/api/addin/suggestions", {});
  const picker = casePicker(api, { suggestions, chosenId: linked?.case_id, onChange: (c) => { state.case = c; open(current()); } });
  root.replaceChildren(h("div", {},
    linked ? h("div.banner", { "data-linked": "yes" }, t("linkedDoc", { number: linked.case_number, title: linked.case_title })) : "",
    picker, tabBar, body));
  if (linked && !state.case) state.case = { id: linked.case_id, number: linked.case_number, title: linked.case_title };
  open("archive");
}

async function templateTab(body, api, state, settings) {
  let templates;
  try {
    templates = await api.get("/api/document-templates", { for_merge: false });
  } catch (err) {
    body.append(h("p.error", {}, err.status === 404 ? t("errMissing", { what: "/api/document-templates" }) : err.message));
    return;
  }
  const choice = select("template_id", templates.filter((x) => x.active).map((x) => ({ value: x.id, label: x.name })));
  const insert = h("button.primary", { type: "button" }, t("insert"));
  insert.addEventListener("click", () => busy(insert, t("insert"), async () => {
    const doc = await api.post(`/api/cases/${state.case.id}/generate`, { template_id: choice.value });
    const main = doc.files.find((f) => f.role === "main");
    const base64 = await blobToBase64(await api.blob(`/api/documents/${doc.id}/files/${main.id}/content`));
    await Word.run(async (context) => {
      context.document.body.insertFileFromBase64(base64, "Replace");
      await context.sync();
    });
    await link(settings, { document_id: doc.id, file_id: main.id, case_id: state.case.id, case_number: state.case.number, case_title: state.case.title });
    notice("ok", t("inserted"));
  }));
  body.append(h("label", {}, t("template"), choice), h("div.row", {}, insert));
}

async function archiveTab(body, api, state, settings) {
  const types = (await api.get("/api/document-types").catch(() => [])).map((d) => ({ value: d.id, label: d.name }));
  const linked = linkedDocument(settings);
  const title = h("input", { name: "title", value: state.case.title, "aria-label": t("title") });
  const type = select("document_type_id", types, { empty: t("none") });
  const final = h("input", { type: "checkbox", name: "final" });
  const save = h("button.primary", { type: "button" }, t("saveNew"));
  save.addEventListener("click", () => busy(save, t("uploading"), async (progress) => {
    const bytes = await readDocument(Office.context.document, "compressed", (f) => progress(f / 2));
    const doc = await api.postForm("/api/documents", formData({
      case_id: state.case.id, title: title.value, document_type_id: type.value || null,
      file: new File([bytes], `${title.value || "dokument"}.docx`, { type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document" }),
    }));
    if (final.checked) await api.put(`/api/documents/${doc.id}/status`, { status: "final" });
    const main = doc.files.find((f) => f.role === "main");
    await link(settings, { document_id: doc.id, file_id: main.id, case_id: state.case.id, case_number: state.case.number, case_title: state.case.title });
    notice("ok", t("savedDoc", { number: state.case.number, status: final.checked ? t("final") : t("draft") }));
  }));
  body.append(h("label", {}, t("title"), title), h("label", {}, t("documentType"), type),
    h("label", {}, final, t("final")), h("div.row", {}, save));
  if (linked && linked.case_id === state.case.id) {
    const version = h("button", { type: "button" }, t("saveVersion"));
    version.addEventListener("click", () => busy(version, t("uploading"), async (progress) => {
      const bytes = await readDocument(Office.context.document, "compressed", progress);
      const saved = await api.postForm(`/api/documents/${linked.document_id}/files/${linked.file_id}/versions`,
        formData({ file: new File([bytes], "dokument.docx") }));
      notice("ok", t("savedVersion", { version: saved.number ?? saved.versions?.length ?? "" }));
    }));
    body.append(h("div.row", {}, version));
  }
}

async function postTab(body, api, state) {
  const caseId = state.case.id;
  const [parties, documents, senders] = await Promise.all([
    api.get(`/api/cases/${caseId}/parties`), api.get("/api/documents", { scope: "case", case_id: caseId }),
    api.get("/api/post/sender-identities"),
  ]);
  const numbers = [];
  const numberList = h("ul.list.numbers");
  const numberType = select("number_type", [{ value: "cpr", label: "CPR" }, { value: "cvr", label: "CVR" }, { value: "p_number", label: "P-nummer" }]);
  const numberInput = h("input", { name: "number", "aria-label": t("addRecipient"), autocomplete: "off" });
  const addNumber = h("button", { type: "button" }, t("add"));
  addNumber.addEventListener("click", () => {
    if (!numberInput.value.trim()) return;
    numbers.push({ type: numberType.value, number: numberInput.value.trim() });
    numberList.append(h("li", {}, `${numberType.selectedOptions[0].textContent} ••••••${numberInput.value.trim().slice(-4)}`));
    numberInput.value = "";
  });
  const title = h("input", { name: "post_title", value: state.case.title, "aria-label": t("title") });
  const copies = h("input", { name: "copies", autocomplete: "off" });
  const guardians = h("input", { type: "checkbox", name: "guardians" });
  const sendAt = h("input", { type: "datetime-local", name: "send_at" });
  const sender = select("sender_identity_id", senders.map((s) => ({ value: s.id, label: s.name || s.cvr })));
  const preview = h("button", { type: "button" }, t("preview"));
  const send = h("button.primary", { type: "button" }, t("send"));
  const previewBox = h("div.preview-box");
  const statusBox = h("div.status-box");
  let letter = null; // the PDF document on the case that is previewed and sent
  const makeLetter = async (progress) => {
    const bytes = await readDocument(Office.context.document, "pdf", (f) => progress(f / 2));
    const blob = new File([bytes], `${title.value || "brev"}.pdf`, { type: "application/pdf" });
    const doc = await api.postForm("/api/documents", formData({ case_id: caseId, title: title.value, direction: "outgoing", file: blob }));
    letter = { doc, blob };
    return letter;
  };
  preview.addEventListener("click", () => busy(preview, t("preview"), async (progress) => {
    const { blob } = await makeLetter(progress);
    previewBox.replaceChildren(pdfFrame(blob, t("preview")));
  }));
  send.addEventListener("click", () => busy(send, t("sending"), async (progress) => {
    const partyIds = checkedValues(body, "party");
    if (!partyIds.length && !numbers.length) throw new Error(t("noRecipients"));
    const { doc } = letter || await makeLetter(progress);
    const dispatch = await api.post("/api/dispatches", dispatchBody({
      title: title.value, senderId: sender.value, caseId, partyIds, numbers, copies: splitNumbers(copies.value),
      guardians: guardians.checked, mainId: doc.id, attachmentIds: checkedValues(body, "attachment"), sendAt: sendAt.value,
    }));
    letter = null;
    notice("ok", t("sent"));
    // a deferred dispatch has no outcome to wait for while the pane is open
    if (dispatch.status === "scheduled") statusBox.replaceChildren(h("p", { dataset: { status: "scheduled" } }, t("status_scheduled")));
    else followDispatch(api, dispatch.id, statusBox);
  }));
  body.append(
    h("label", {}, t("title"), title),
    h("h2", {}, t("recipients")),
    h("ul.list", { "aria-label": t("parties") }, ...parties.map((p) => h("li", {}, h("label", {},
      h("input", { type: "checkbox", name: "party", value: p.contact.id }), p.contact.name, p.role ? h("span.chip", {}, p.role) : "")))),
    h("label", {}, t("addRecipient")), h("div.row", {}, numberType, numberInput, addNumber), numberList,
    h("label", {}, t("copies"), copies),
    h("label", {}, guardians, t("guardians")),
    h("h2", {}, t("caseAttachments")),
    h("ul.list", { "aria-label": t("caseAttachments") }, ...documents.map((d) => h("li", {}, h("label", {},
      h("input", { type: "checkbox", name: "attachment", value: d.id }), d.title)))),
    h("label", {}, t("sendAt"), sendAt),
    h("label", {}, t("sender"), sender),
    h("div.row", {}, preview, send), previewBox, statusBox);
}

/** Show each letter's status until every one has an outcome. */
export async function followDispatch(api, dispatchId, box, { interval = 1500, sleep = (ms) => new Promise((r) => setTimeout(r, ms)) } = {}) {
  for (;;) {
    const letters = await api.get(`/api/dispatches/${dispatchId}/letters`);
    box.replaceChildren(h("table.status", {}, ...letters.map((l) => h("tr", { dataset: { status: l.status } },
      h("td", {}, l.recipient?.name || ""), h("td", {}, t(`status_${l.status}`)), h("td.muted", {}, l.provider_answer || "")))));
    if (letters.length && letters.every((l) => FINAL_LETTER.has(l.status))) return letters;
    await sleep(interval);
  }
}
