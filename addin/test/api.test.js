import assert from "node:assert/strict";
import { test } from "node:test";

import { Api, formData } from "../src/api.js";

const reply = (status, body) => async () => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

test("an expired sign-in says so and forgets the session", async () => {
  let forgotten = false;
  const api = new Api({ base: "http://sagspost", fetchImpl: reply(401, { message: "The API token is unknown" }), onExpired: () => { forgotten = true; } });
  await assert.rejects(api.get("/api/cases"), (err) => err.kind === "expired" && /Log ind igen/.test(err.message));
  assert.equal(forgotten, true);
});

test("no connection is named as such", async () => {
  const api = new Api({ base: "http://sagspost", fetchImpl: async () => { throw new TypeError("Failed to fetch"); } });
  await assert.rejects(api.get("/api/cases"), (err) => err.kind === "offline" && /Ingen forbindelse/.test(err.message));
});

test("a missing right names the right", async () => {
  const api = new Api({ base: "http://sagspost", fetchImpl: reply(403, { message: "This needs the right post.send." }) });
  await assert.rejects(api.post("/api/dispatches", {}), (err) => err.kind === "forbidden" && /post\.send/.test(err.message));
});

test("a rule broken in a field names the field and the message", async () => {
  const api = new Api({ base: "http://sagspost", fetchImpl: reply(422, { message: "Invalid", errors: { rows: { 17: ["invalid CPR"] } } }) });
  await assert.rejects(api.post("/api/merges", {}), (err) => err.kind === "invalid" && /rows\.17: invalid CPR/.test(err.message));
});

test("the token is sent, query values left out when empty", async () => {
  let seen;
  const api = new Api({ base: "http://sagspost", token: "sp_x", fetchImpl: async (url, init) => { seen = { url, init }; return new Response("[]"); } });
  await api.get("/api/addin/suggestions", { sender: "a@b.dk", conversation_id: undefined, message_id: "" });
  assert.equal(seen.url, "http://sagspost/api/addin/suggestions?sender=a%40b.dk");
  assert.equal(seen.init.headers.Authorization, "Bearer sp_x");
});

test("form data repeats list fields and leaves out nulls", () => {
  const form = formData({ case_id: "c1", keep_attachments: ["a.pdf", "b.pdf"], document_type_id: null, final: false });
  assert.deepEqual(form.getAll("keep_attachments"), ["a.pdf", "b.pdf"]);
  assert.equal(form.get("document_type_id"), null);
  assert.equal(form.get("final"), "false");
});
