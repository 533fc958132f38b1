// Outlook: archive the message being read on a case; while composing, attach a case's documents
// and mark the message for its case once it is sent.
import { formData } from "./api.js";
import { entraToken } from "./auth.js";
import { t } from "./i18n.js";
import { base64ToBytes, blobToBase64, officeAsync } from "./office.js";
import { busy, casePicker, checkedValues, h, notice, select } from "./ui.js";

export const CASE_HEADER = "X-Sagspost-Case";
const NOTIFICATION = "sagspost";

/** What the pane needs to know about the message being read. */
export function messageInfo(item) {
  return {
    subject: item.subject || "",
    from: item.from ? { name: item.from.displayName, address: item.from.emailAddress } : null,
    date: item.dateTimeCreated ? new Date(item.dateTimeCreated) : null,
    messageId: item.internetMessageId || null,
    conversationId: item.conversationId || null,
    attachments: (item.attachments || []).filter((a) => !a.isInline).map((a) => ({ id: a.id, name: a.name, size: a.size })),
  };
}

/** The case id a message was marked with when it was written (our internet header), if any. */
export function markedCaseId(headers) {
  const match = /^x-sagspost-case:\s*([0-9a-f-]{36})\s*$/im.exec(headers || "");
  return match ? match[1] : null;
}

export function where(locations) {
  return locations.map((l) => `${l.case_number} (${l.case_title})`).join(", ");
}

function supports(version) {
  return Office.context.requirements.isSetSupported("Mailbox", version);
}

/** The whole message for the server: the .eml from Outlook (Mailbox 1.14), or its id for Graph. */
export async function messageSource(item, config) {
  if (supports("1.14")) {
    const bytes = base64ToBytes(await officeAsync(item, "getAsFileAsync"));
    return { file: new File([bytes], "message.eml", { type: "message/rfc822" }) };
  }
  const ssoToken = await entraToken(config);
  if (!ssoToken) throw new Error(t("errOffice", { message: "getAsFileAsync (Mailbox 1.14) / Microsoft SSO" }));
  return { item_id: Office.context.mailbox.convertToRestId(item.itemId, Office.MailboxEnums.RestVersion.v2_0), sso_token: ssoToken };
}

async function documentTypes(api) {
  const types = await api.get("/api/document-types").catch(() => []);
  return types.filter((d) => d.active !== false).map((d) => ({ value: d.id, label: d.name }));
}

export async function readPane(root, api, config) {
  const item = Office.context.mailbox.item;
  const info = messageInfo(item);
  const headers = supports("1.8") ? await officeAsync(item, "getAllInternetHeadersAsync").catch(() => "") : "";
  const marked = markedCaseId(headers);
  const [locations, suggested, types] = await Promise.all([
    info.messageId ? api.get("/api/addin/archived", { message_id: info.messageId }) : [],
    api.get("/api/addin/suggestions", { sender: info.from?.address, conversation_id: info.conversationId, message_id: info.messageId }),
    documentTypes(api),
  ]);
  const suggestions = await withMarkedCase(api, suggested, marked);
  let chosen = null;
  let archivedAt = locations;
  const status = h("div.archived-status");
  const showStatus = () => status.replaceChildren(archivedAt.length
    ? h("div.banner.ok", { "data-archived": "yes" }, t("alreadyArchived", { where: where(archivedAt) })) : "");
  showStatus();
  const button = h("button.primary", { type: "button", disabled: true }, t("archive"));
  const picker = casePicker(api, {
    suggestions,
    chosenId: marked,
    onChange: (c) => { chosen = c; button.disabled = false; },
  });
  const attachments = h("ul.list", { "aria-label": t("attachments") }, ...info.attachments.map((a) =>
    h("li", {}, h("label", {}, h("input", { type: "checkbox", name: "keep", value: a.name, checked: true }), a.name))));
  const form = h("form.archive", {},
    status,
    marked ? h("div.banner", {}, t("markedForCase", { number: suggestions.find((s) => s.case.id === marked)?.case.number ?? "" })) : "",
    h("div.card", {}, h("b", {}, info.subject), h("div.muted", {}, info.from ? `${info.from.name} <${info.from.address}>` : ""),
      h("div.muted", {}, info.date ? info.date.toLocaleString() : "")),
    picker,
    info.attachments.length ? [h("h2", {}, t("attachments")), attachments] : "",
    h("label", {}, t("documentType"), select("document_type_id", types, { empty: t("none") })),
    h("label", {}, h("input", { type: "checkbox", name: "final" }), t("final")),
    h("div.row", {}, button));
  let confirmed = false;
  button.addEventListener("click", () => busy(button, t("archiving"), async (progress) => {
    if (archivedAt.length && !confirmed) {
      confirmed = true;
      notice("warn", t("archiveAgain", { where: where(archivedAt) }));
      return;
    }
    confirmed = false;
    progress(null, t("reading"));
    const source = await messageSource(item, config);
    progress(0.5, t("archiving"));
    const result = await api.postForm("/api/addin/messages", formData({
      case_id: chosen.id,
      conversation_id: info.conversationId,
      document_type_id: form.querySelector("[name=document_type_id]").value || null,
      final: form.querySelector("[name=final]").checked,
      keep_attachments: info.attachments.length ? checkedValues(form, "keep") : null,
      ...source,
    }));
    const message = result.duplicate ? t("duplicate", { number: chosen.number }) : t("archivedOn", { number: chosen.number, title: chosen.title });
    notice("ok", message);
    markMessage(item, message);
    archivedAt = await api.get("/api/addin/archived", { message_id: info.messageId });
    showStatus();
  }));
  root.replaceChildren(form);
}

/** The suggestions with the case the message was marked for when written, first. */
export async function withMarkedCase(api, suggestions, caseId) {
  if (!caseId) return suggestions;
  const others = suggestions.filter((s) => s.case.id !== caseId);
  const known = suggestions.find((s) => s.case.id === caseId);
  const marked = known ? known.case : await api.get(`/api/cases/${caseId}`).catch(() => null);
  return marked ? [{ case: marked, reasons: ["marked", ...(known?.reasons || [])] }, ...others] : suggestions;
}

function markMessage(item, message) {
  // the notification bar over the message shows where it is archived; a failure here changes nothing
  item.notificationMessages?.replaceAsync(NOTIFICATION, {
    type: "informationalMessage", message: message.slice(0, 150), icon: "Icon.16", persistent: false,
  }, () => {});
}

export async function composePane(root, api) {
  const item = Office.context.mailbox.item;
  const suggestions = await api.get("/api/addin/suggestions", {});
  const documents = h("ul.list", { "aria-label": t("attachFromCase") });
  const mark = h("button", { type: "button", disabled: true }, t("composeFile"));
  let chosen = null;
  const picker = casePicker(api, {
    suggestions,
    onChange: async (c) => {
      chosen = c;
      mark.disabled = false;
      const docs = await api.get("/api/documents", { scope: "case", case_id: c.id });
      documents.replaceChildren(...docs.map((d) => {
        const attach = h("button", { type: "button" }, t("attach"));
        attach.addEventListener("click", () => busy(attach, t("attach"), () => attachDocument(api, item, d)));
        return h("li", {}, h("div.row", {}, h("span", {}, d.title), attach));
      }));
    },
  });
  mark.addEventListener("click", () => busy(mark, t("composeFile"), async () => {
    await officeAsync(item.internetHeaders, "setAsync", { [CASE_HEADER]: chosen.id });
    notice("ok", t("composeMarked", { number: chosen.number }));
  }));
  root.replaceChildren(h("div", {}, picker, h("h2", {}, t("attachFromCase")), documents, h("div.row", {}, mark)));
}

async function attachDocument(api, item, listed) {
  const doc = await api.get(`/api/documents/${listed.id}`);
  const main = doc.files.find((f) => f.role === "main") || doc.files[0];
  const blob = await api.blob(`/api/documents/${doc.id}/files/${main.id}/content`);
  const base64 = await blobToBase64(blob);
  const name = main.versions.at(-1)?.filename || main.name;
  await officeAsync(item, "addFileAttachmentFromBase64Async", base64, name);
  notice("ok", t("attached", { name }));
}

