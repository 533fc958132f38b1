import assert from "node:assert/strict";
import { test } from "node:test";

import { dispatchBody, linkedDocument, splitNumbers } from "../src/word.js";

test("recipients from parties and typed numbers share the copies and guardian choice", () => {
  const body = dispatchBody({
    title: "Afgørelse", senderId: "s1", caseId: "c1", partyIds: ["p1"], numbers: [{ type: "cvr", number: "12345678" }],
    copies: ["0101801234"], guardians: true, mainId: "d1", attachmentIds: ["d2"], sendAt: "",
  });
  assert.deepEqual(body.recipients, [
    { type: "contact", contact_id: "p1", copies: ["0101801234"], include_guardians: true },
    { type: "cvr", number: "12345678", copies: ["0101801234"], include_guardians: true },
  ]);
  assert.equal(body.main_document_id, "d1");
  assert.equal(body.send_at, null);
});

test("a deferred time is sent as an ISO instant", () => {
  const body = dispatchBody({ title: "x", senderId: "s", caseId: "c", partyIds: [], numbers: [], copies: [], guardians: false,
    mainId: "d", attachmentIds: [], sendAt: "2026-12-01T09:30" });
  assert.match(body.send_at, /^2026-12-01T\d\d:30:00\.000Z$/);
});

test("copy numbers may be separated by commas, spaces or semicolons", () => {
  assert.deepEqual(splitNumbers("0101801234, 0202802345;0303803456 "), ["0101801234", "0202802345", "0303803456"]);
});

test("the case document a Word file was saved as is remembered in the document's settings", () => {
  const settings = new Map([["sagspost.document", { document_id: "d1" }]]);
  assert.deepEqual(linkedDocument(settings), { document_id: "d1" });
  assert.equal(linkedDocument(new Map()), null);
});
