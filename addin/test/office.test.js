import assert from "node:assert/strict";
import { test } from "node:test";
import { OfficeMockObject } from "office-addin-mock";

import { base64ToBytes, bytesToBase64, officeAsync, readDocument } from "../src/office.js";

function documentMock(bytes, sliceSize) {
  const slices = [];
  for (let i = 0; i < bytes.length; i += sliceSize) slices.push(Array.from(bytes.slice(i, i + sliceSize)));
  const calls = { types: [], closed: 0 };
  const file = {
    sliceCount: slices.length,
    getSliceAsync(index, callback) { callback({ status: "succeeded", value: { data: slices[index] } }); },
    closeAsync(callback) { calls.closed += 1; callback({ status: "succeeded" }); },
  };
  const office = new OfficeMockObject({
    context: { document: { getFileAsync(type, options, callback) { calls.types.push(type); callback({ status: "succeeded", value: file }); } } },
  });
  return { document: office.context.document, calls };
}

test("the open document is read slice by slice into one file, progress reported, the file closed", async () => {
  const bytes = Uint8Array.from({ length: 10 }, (_, i) => i * 7);
  const { document, calls } = documentMock(bytes, 4);
  const progress = [];
  const read = await readDocument(document, "compressed", (f) => progress.push(f));
  assert.deepEqual(Array.from(read), Array.from(bytes));
  assert.deepEqual(progress.map((p) => p.toFixed(2)), ["0.33", "0.67", "1.00"]);
  assert.deepEqual(calls.types, ["compressed"]);
  assert.equal(calls.closed, 1);
});

test("a failing slice fails the read and still closes the file", async () => {
  let closed = 0;
  const file = {
    sliceCount: 2,
    getSliceAsync(index, cb) { cb(index ? { status: "failed", error: { message: "slice lost" } } : { status: "succeeded", value: { data: [1] } }); },
    closeAsync(cb) { closed += 1; cb({ status: "succeeded" }); },
  };
  const document = { getFileAsync: (type, options, cb) => cb({ status: "succeeded", value: file }) };
  await assert.rejects(readDocument(document, "pdf"), /slice lost/);
  assert.equal(closed, 1);
});

test("an Office failure is an error with Office's message", async () => {
  const target = { thingAsync: (a, cb) => cb({ status: "failed", error: { message: "no permission" } }) };
  await assert.rejects(officeAsync(target, "thingAsync", 1), /no permission/);
});

test("base64 round trip of binary data", () => {
  const bytes = Uint8Array.from({ length: 70000 }, (_, i) => i % 256);
  assert.deepEqual(base64ToBytes(bytesToBase64(bytes)), bytes);
});
