import assert from "node:assert/strict";
import { test } from "node:test";
import { OfficeMockObject } from "office-addin-mock";

import {
  STATUS_HEADER, detectHeader, followMerge, guessIdColumn, rowStatuses, sheetMerge, statusText, writeStatuses,
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

test("problems from the check become invalid rows with every reason, the rest ready", () => {
  const statuses = rowStatuses({ first_row: 4, row_count: 3, problems: [
    { row: 5, column: "CPR", message: "ugyldigt CPR-nummer" }, { row: 5, column: null, message: "tom række" }] });
  assert.deepEqual(statuses.map((s) => s.status), ["ready", "invalid", "ready"]);
  assert.equal(statuses[1].problem, "CPR: ugyldigt CPR-nummer; tom række");
  assert.equal(statusText(statuses[1]), "ugyldig: CPR: ugyldigt CPR-nummer; tom række");
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
