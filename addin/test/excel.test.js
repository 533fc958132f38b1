import assert from "node:assert/strict";
import { test } from "node:test";
import { OfficeMockObject } from "office-addin-mock";

import {
  STATUS_HEADER, detectHeader, followMerge, guessIdColumn, rowStatuses, sheetMerge, statusText, untilRendered, writeStatuses,
} from "../src/excel.js";

const SHEET = [
  ["Brevfletning juni", "", ""],
  ["", "", ""],
  ["Navn", "CPR", "Beløb"],
  ["Anna", "0101801234", 100],
  ["Bo", "12", 200],
  ["", "", ""],
];

test("the header is the first row of text with data under it, not the title above it", () => {
  assert.equal(detectHeader(SHEET), 2);
});

test("the recipient column is found by its header", () => {
  assert.equal(guessIdColumn(["Navn", "CPR", "Beløb"]), 1);
  assert.equal(guessIdColumn(["Navn", "Adresse"]), 0);
});

test("the merge carries real sheet row numbers, drops trailing empty rows and our status column", () => {
  const merge = sheetMerge([...SHEET.slice(0, 3).map((r) => [...r, r === SHEET[2] ? STATUS_HEADER : ""]),
    ...SHEET.slice(3).map((r) => [...r, "klar"])], 4);
  assert.deepEqual(merge.header, ["Navn", "CPR", "Beløb"]);
  assert.deepEqual(merge.rows, [["Anna", "0101801234", "100"], ["Bo", "12", "200"]]);
  assert.equal(merge.headerRow, 7); // used range starts at sheet row 5 (index 4); header is its third row
  assert.equal(merge.firstRow, 8);
  assert.equal(merge.statusColumn, 3);
});

test("without a status column one is added after the last column", () => {
  assert.equal(sheetMerge(SHEET, 0).statusColumn, 3);
});

test("the merge's rows become the sheet's statuses, a bad row with its reason", () => {
  const statuses = rowStatuses([{ row: 4, status: "ready", problem: null }, { row: 5, status: "invalid", problem: "CPR: not a CPR number" }]);
  assert.deepEqual(statuses.map((s) => s.status), ["ready", "invalid"]);
  assert.equal(statusText(statuses[1]), "ugyldig: CPR: not a CPR number");
  assert.equal(statusText(statuses[0]), "klar");
});

function workbookMock() {
  const cells = {};
  const cell = (r, c) => {
    const key = `${r},${c}`;
    cells[key] ||= { values: null, format: { fill: { color: null, clear() { this.color = "cleared"; } } } };
    return cells[key];
  };
  const excel = new OfficeMockObject({
    context: { workbook: { worksheets: { getItem: () => ({ getCell: cell }) } } },
    run: async function (callback) { await callback(this.context); },
  });
  return { excel, cells };
}

test("statuses are written into the status column, failed rows marked red", async () => {
  const { excel, cells } = workbookMock();
  globalThis.Excel = excel;
  await writeStatuses("Ark1", 3, 1, [
    { row: 2, status: "delivered", problem: null }, { row: 3, status: "failed", problem: "Modtager fritaget" }]);
  assert.deepEqual(cells["0,3"].values, [[STATUS_HEADER]]);
  assert.deepEqual(cells["1,3"].values, [["leveret"]]);
  assert.equal(cells["1,3"].format.fill.color, "cleared");
  assert.deepEqual(cells["2,3"].values, [["fejlet: Modtager fritaget"]]);
  assert.equal(cells["2,3"].format.fill.color, "#FDE7E9");
});

test("a merge is followed until every row has an outcome, each change handed on once", async () => {
  const answers = [
    [{ row: 2, status: "queued" }, { row: 3, status: "invalid" }],
    [{ row: 2, status: "queued" }, { row: 3, status: "invalid" }],
    [{ row: 2, status: "sent" }, { row: 3, status: "invalid" }],
    [{ row: 2, status: "delivered" }, { row: 3, status: "invalid" }],
  ];
  const api = { get: async () => answers.shift() };
  const seen = [];
  const rows = await followMerge(api, "m1", (r) => seen.push(r.map((x) => x.status).join()), 0, async () => {});
  assert.deepEqual(seen, ["queued,invalid", "sent,invalid", "delivered,invalid"]);
  assert.equal(rows[0].status, "delivered");
});

test("a merge is waited for while its letters are made, and a failed one says why", async () => {
  const answers = [{ id: "m1", status: "rendering", rendered_count: 20, row_count: 50 }, { id: "m1", status: "ready", ready: true }];
  const seen = [];
  const done = await untilRendered({ get: async () => answers.shift() }, { id: "m1", status: "rendering", rendered_count: 0, row_count: 50 },
    (m) => seen.push(m.rendered_count), 0, async () => {});
  assert.equal(done.ready, true);
  assert.deepEqual(seen, [0, 20]);
  await assert.rejects(untilRendered({ get: async () => ({ status: "failed", error: "LibreOffice stopped" }) },
    { id: "m1", status: "rendering", rendered_count: 0, row_count: 1 }, () => {}, 0, async () => {}), /LibreOffice stopped/);
});
