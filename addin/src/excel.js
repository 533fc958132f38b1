// Excel: mail merge from the active sheet to Digital Post, each row's status written back beside it.
import { t } from "./i18n.js";
import { busy, h, notice, pdfFrame, select } from "./ui.js";

export const STATUS_HEADER = "Sagspost-status";
const FINAL_ROW = new Set(["invalid", "delivered", "to_print", "failed", "cancelled"]);
const BAD_FILL = "#FDE7E9";
const ID_NAMES = /^(cpr|cvr|p-?nummer|p-?number|cpr-?nummer|cpr-?nr|cvr-?nummer|modtager|recipient|id)$/i;

const filled = (cell) => cell !== "" && cell !== null && cell !== undefined;

/** The index of the header row in a used range's values: the first row of text cells with a filled row after it. */
export function detectHeader(values) {
  for (let i = 0; i < values.length - 1; i += 1) {
    const cells = values[i].filter(filled);
    if (cells.length >= 2 && cells.every((c) => typeof c === "string") && values[i + 1].some(filled)) return i;
  }
  return 0;
}

/** The column that most likely holds the recipient's CPR/CVR, by its header. */
export function guessIdColumn(header) {
  const index = header.findIndex((name) => ID_NAMES.test(String(name).trim()));
  return index >= 0 ? index : 0;
}

/**
 * The merge as the API takes it: header and data rows (without our status column and the empty
 * rows at the end), and the sheet row number of the first data row.
 */
export function sheetMerge(values, rowIndex) {
  const headerAt = detectHeader(values);
  const fullHeader = values[headerAt].map((c) => String(c).trim());
  const statusAt = fullHeader.indexOf(STATUS_HEADER);
  const keep = (row) => row.filter((_, i) => i !== statusAt);
  let rows = values.slice(headerAt + 1).map(keep);
  while (rows.length && !rows.at(-1).some(filled)) rows = rows.slice(0, -1);
  return {
    header: keep(fullHeader),
    rows: rows.map((row) => row.map((c) => (typeof c === "number" ? String(c) : c))),
    headerRow: rowIndex + headerAt + 1,
    firstRow: rowIndex + headerAt + 2,
    statusColumn: statusAt >= 0 ? statusAt : fullHeader.length,
  };
}

/** The text written in the status column for a merge row. */
export function statusText(row) {
  const label = t(`status_${row.status}`);
  return row.problem ? `${label}: ${row.problem}` : label;
}

/** The merge's rows (GET /api/merges/{id}/rows) as statuses for the sheet: checked, made, then sent. */
export function rowStatuses(rows) {
  return rows.map((r) => ({ row: r.row, status: r.status, problem: r.problem || null }));
}

async function readSheet() {
  return Excel.run(async (context) => {
    const sheet = context.workbook.worksheets.getActiveWorksheet();
    const range = sheet.getUsedRange();
    range.load(["values", "rowIndex", "columnIndex"]);
    sheet.load("name");
    await context.sync();
    return { name: sheet.name, values: range.values, rowIndex: range.rowIndex, columnIndex: range.columnIndex };
  });
}

/** Write statuses into the status column (its header too), bad rows filled red, good rows cleared. */
export async function writeStatuses(sheetName, columnIndex, headerRow, statuses) {
  await Excel.run(async (context) => {
    const sheet = context.workbook.worksheets.getItem(sheetName);
    sheet.getCell(headerRow - 1, columnIndex).values = [[STATUS_HEADER]];
    for (const s of statuses) {
      const cell = sheet.getCell(s.row - 1, columnIndex);
      cell.values = [[statusText(s)]];
      if (s.status === "invalid" || s.status === "failed") cell.format.fill.color = BAD_FILL;
      else cell.format.fill.clear();
    }
    await context.sync();
  });
}

export async function excelPane(root, api, { interval = 2000 } = {}) {
  const sheet = await readSheet();
  let merge = sheetMerge(sheet.values, sheet.rowIndex);
  const statusColumn = sheet.columnIndex + merge.statusColumn;
  const [templates, senders] = await Promise.all([
    api.get("/api/document-templates", { for_merge: true }).catch((err) => { notice("error", err.status === 404 ? t("errMissing", { what: "/api/document-templates" }) : err.message); return []; }),
    api.get("/api/post/sender-identities"),
  ]);
  const idColumn = select("id_column", merge.header.map((name) => ({ value: name, label: name })), { value: merge.header[guessIdColumn(merge.header)] });
  const template = select("template_id", templates.filter((x) => x.active).map((x) => ({ value: x.id, label: x.name })));
  const title = h("input", { name: "title", "aria-label": t("title") });
  const sender = select("sender_identity_id", senders.map((s) => ({ value: s.id, label: s.name || s.cvr })));
  const check = h("button.primary", { type: "button" }, t("check"));
  const summary = h("div.summary");
  const after = h("div.after-check");
  root.replaceChildren(h("div", {},
    h("div.card", {}, h("b", {}, `${t("sheet")}: ${sheet.name}`), h("div.muted", {}, t("headerRow", { row: merge.headerRow }))),
    h("label", {}, t("idColumn"), idColumn), h("label", {}, t("template"), template),
    h("label", {}, t("title"), title), h("label", {}, t("sender"), sender),
    h("div.row", {}, check), summary, after));
  check.addEventListener("click", () => busy(check, t("checking", { count: merge.rows.length }), async (progress) => {
    // the sheet as it is now: the caseworker may have corrected rows since the last check
    merge = sheetMerge((await readSheet()).values, sheet.rowIndex);
    let created = await api.post("/api/merges", {
      template_id: template.value, header: merge.header, rows: merge.rows, id_column: idColumn.value, first_row: merge.firstRow,
    });
    const writeRows = async () => {
      const statuses = rowStatuses(await api.get(`/api/merges/${created.id}/rows`));
      await writeStatuses(sheet.name, statusColumn, merge.headerRow, statuses);
      return statuses;
    };
    const statuses = await writeRows();
    const ok = statuses.filter((s) => s.status !== "invalid").length;
    summary.replaceChildren(h("p", { dataset: { ready: String(ok) } }, t("rowsOk", { ok, count: statuses.length })),
      h("ul.list.problems", {}, ...created.problems.map((p) => h("li.error", {}, t("rowProblem", { row: p.row, message: p.message })))));
    after.replaceChildren();
    // every letter is made before anything can be sent; a sheet with bad rows is fixed and checked again
    created = await untilRendered(api, created, (m) => progress(m.rendered_count / m.row_count, t("rendering", m)), interval);
    if (created.ready) after.replaceChildren(mergeActions(api, created, await writeRows(), { sheet, statusColumn, merge, title, sender, interval }));
  }));
}

/** The merge once its letters are made (or it failed); `onProgress` sees each state in between. */
export async function untilRendered(api, created, onProgress, interval, sleep = (ms) => new Promise((r) => setTimeout(r, ms))) {
  let current = created;
  while (current.status === "rendering") {
    onProgress(current);
    await sleep(interval);
    current = await api.get(`/api/merges/${current.id}`);
  }
  if (current.status === "failed") throw new Error(current.error || t("status_failed"));
  return current;
}

function mergeActions(api, created, rows, { sheet, statusColumn, merge, title, sender, interval }) {
  const row = select("preview_row", rows.map((s) => ({ value: String(s.row), label: String(s.row) })));
  const preview = h("button", { type: "button" }, t("previewRow"));
  const box = h("div.preview-box");
  preview.addEventListener("click", () => busy(preview, t("previewRow"), async () => {
    box.replaceChildren(pdfFrame(await api.blob(`/api/merges/${created.id}/rows/${row.value}/preview`), t("previewRow")));
  }));
  const send = h("button.primary", { type: "button" }, t("dispatch", { count: rows.length }));
  send.addEventListener("click", () => busy(send, t("sending"), async (progress) => {
    await api.post(`/api/merges/${created.id}/dispatch`, { title: title.value || sheet.name, sender_identity_id: sender.value });
    send.hidden = true; // a merge is sent once
    notice("ok", t("dispatched"));
    const final = await followMerge(api, created.id, (current) => {
      const done = current.filter((r) => FINAL_ROW.has(r.status)).length;
      progress(done / current.length, summaryText(current));
      return writeStatuses(sheet.name, statusColumn, merge.headerRow, rowStatuses(current));
    }, interval);
    notice("ok", t("allDone", { summary: summaryText(final) }));
  }));
  return h("div", {}, h("div.row", {}, row, preview), box, h("div.row", {}, send));
}

export function summaryText(rows) {
  const counts = {};
  for (const r of rows) counts[r.status] = (counts[r.status] || 0) + 1;
  return Object.entries(counts).map(([status, n]) => `${n} ${t(`status_${status}`)}`).join(", ");
}

/** Poll the merge's rows, handing each change to `onRows`, until every row has an outcome. */
export async function followMerge(api, mergeId, onRows, interval, sleep = (ms) => new Promise((r) => setTimeout(r, ms))) {
  let last = "";
  for (;;) {
    const rows = await api.get(`/api/merges/${mergeId}/rows`);
    const seen = JSON.stringify(rows.map((r) => [r.row, r.status]));
    if (seen !== last) { await onRows(rows); last = seen; }
    if (rows.every((r) => FINAL_ROW.has(r.status))) return rows;
    await sleep(interval);
  }
}
