import assert from "node:assert/strict";
import { test } from "node:test";
import { OfficeMockObject } from "office-addin-mock";

import { markedCaseId, messageInfo, messageSource, where, withMarkedCase } from "../src/outlook.js";

const ITEM = {
  subject: "Ansøgning om tilskud",
  from: { displayName: "Bo Borger", emailAddress: "bo@example.dk" },
  dateTimeCreated: "2026-11-20T10:00:00Z",
  internetMessageId: "<abc@example.dk>",
  conversationId: "AAQk-conv",
  itemId: "AAMk-item",
  attachments: [{ id: "1", name: "bilag.pdf", size: 10, isInline: false }, { id: "2", name: "logo.png", size: 2, isInline: true }],
};

test("the message's ids, sender and only its real attachments (not inline images)", () => {
  const info = messageInfo(ITEM);
  assert.equal(info.messageId, "<abc@example.dk>");
  assert.equal(info.conversationId, "AAQk-conv");
  assert.deepEqual(info.from, { name: "Bo Borger", address: "bo@example.dk" });
  assert.deepEqual(info.attachments.map((a) => a.name), ["bilag.pdf"]);
});

test("the case a message was marked for is read from its internet headers", () => {
  const id = "0f5c2c1e-4a3b-4c55-9a0e-2b1f3c4d5e6f";
  assert.equal(markedCaseId(`Subject: x\r\nX-Sagspost-Case: ${id}\r\nTo: a@b`), id);
  assert.equal(markedCaseId("Subject: x\r\n"), null);
});

test("archived locations are named by case number and title", () => {
  assert.equal(where([{ case_number: "2026-000001", case_title: "Tilskud" }]), "2026-000001 (Tilskud)");
});

function officeWith(mailbox114, item) {
  return new OfficeMockObject({
    context: {
      requirements: { isSetSupported: (name, version) => name === "Mailbox" && (version !== "1.14" || mailbox114) },
      mailbox: { item, convertToRestId: (id) => `rest-${id}` },
    },
    MailboxEnums: { RestVersion: { v2_0: "v2.0" } },
  });
}

test("with Mailbox 1.14 the whole message is sent as an .eml file", async () => {
  const eml = "From: bo@example.dk\r\nSubject: Hej\r\n\r\nTekst";
  const item = { ...ITEM, getAsFileAsync: (cb) => cb({ status: "succeeded", value: Buffer.from(eml).toString("base64") }) };
  globalThis.Office = officeWith(true, item);
  const source = await messageSource(item, {});
  assert.equal(source.file.name, "message.eml");
  assert.equal(source.file.type, "message/rfc822");
  assert.equal(await source.file.text(), eml);
});

test("without Mailbox 1.14 and without Microsoft sign-in the pane says what is missing", async () => {
  globalThis.Office = officeWith(false, ITEM);
  await assert.rejects(messageSource(ITEM, { entra_client_id: null }), /getAsFileAsync \(Mailbox 1.14\)/);
});

test("a message marked for a case when written suggests that case first, fetched if not among the suggestions", async () => {
  const suggestions = [{ case: { id: "c2", number: "2026-000002" }, reasons: ["recent"] }];
  const api = { get: async (path) => { assert.equal(path, "/api/cases/c1"); return { id: "c1", number: "2026-000001" }; } };
  const result = await withMarkedCase(api, suggestions, "c1");
  assert.deepEqual(result.map((s) => [s.case.id, s.reasons]), [["c1", ["marked"]], ["c2", ["recent"]]]);
  const again = await withMarkedCase(api, [...suggestions, { case: { id: "c1" }, reasons: ["recent"] }], "c1");
  assert.deepEqual(again.map((s) => [s.case.id, s.reasons]), [["c1", ["marked", "recent"]], ["c2", ["recent"]]]);
  assert.equal(await withMarkedCase(api, suggestions, null), suggestions);
});
