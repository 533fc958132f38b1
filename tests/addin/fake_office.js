// A stand-in for the Office host around the task pane in the end-to-end tests: the subset of
// Office.js (and Word/Excel.run) the pane uses, answering from window.__officeSetup, which the test
// sets first. What the pane does to the host is recorded for the test to read back.
(() => {
  const setup = window.__officeSetup;
  const ok = (value) => ({ status: "succeeded", value });
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const minor = (v) => Number(String(v).split(".")[1] || 0);
  const record = (window.__officeRecord = { notifications: [], headers: {}, attachments: [], settings: {} });

  const mailItem = () => (setup.composing ? composeItem() : {
    ...setup.item,
    displayReplyForm() {},
    getAsFileAsync(callback) { callback(ok(setup.eml)); },
    getAllInternetHeadersAsync(callback) { callback(ok(setup.headers || "")); },
    notificationMessages: {
      replaceAsync(key, message, callback) { record.notifications.push(message); callback?.(ok()); },
    },
  });

  // a message being written: no reply form, internet headers and attachments can be added
  const composeItem = () => ({
    internetHeaders: { setAsync(headers, cb) { Object.assign(record.headers, headers); cb?.(ok()); } },
    addFileAttachmentFromBase64Async(base64, name, cb) { record.attachments.push({ name, size: atob(base64).length }); cb?.(ok(`att-${name}`)); },
  });

  const documentFile = (type, options, callback) => {
    const data = bytes(type === "pdf" ? setup.pdf : setup.docx);
    const size = options?.sliceSize || 65536;
    const count = Math.max(1, Math.ceil(data.length / size));
    record.fileTypes = [...(record.fileTypes || []), type];
    callback(ok({
      size: data.length,
      sliceCount: count,
      getSliceAsync(index, cb) { cb(ok({ index, data: Array.from(data.subarray(index * size, (index + 1) * size)) })); },
      closeAsync(cb) { cb?.(ok()); },
    }));
  };

  window.Office = {
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
    MailboxEnums: { RestVersion: { v2_0: "v2.0" } },
    onReady(callback) {
      const info = { host: setup.host, platform: "OfficeOnline" };
      setTimeout(() => callback(info), 0);
      return Promise.resolve(info);
    },
    context: {
      displayLanguage: setup.language || "da-DK",
      requirements: { isSetSupported: (name, version) => name === "Mailbox" && minor(setup.mailbox || "1.14") >= minor(version) },
      mailbox: {
        item: setup.host === "Outlook" ? mailItem() : undefined,
        convertToRestId: (id) => `rest:${id}`,
      },
      document: {
        getFileAsync: documentFile,
        settings: {
          get: (key) => record.settings[key],
          set: (key, value) => { record.settings[key] = value; },
          saveAsync: (cb) => cb?.(ok()),
        },
      },
      ui: {
        displayDialogAsync: (url, options, cb) => cb({ status: "failed", error: { message: "no dialogs in the test host" } }),
        // the sign-in page inside the dialog hands its answer to the pane
        messageParent: (message) => { record.messagedParent = message; },
      },
    },
  };

  // Excel: the active sheet is window.__sheet (rows of cells from A1); fills land in window.__fills.
  window.__sheet = setup.sheet || [];
  window.__fills = {};
  const cell = (r, c) => ({
    set values(v) { while (window.__sheet.length <= r) window.__sheet.push([]); window.__sheet[r][c] = v[0][0]; },
    format: { fill: {
      set color(v) { window.__fills[`${r},${c}`] = v; },
      clear() { delete window.__fills[`${r},${c}`]; },
    } },
  });
  const sheet = {
    name: "Ark1",
    load() {},
    getUsedRange() {
      const width = Math.max(...window.__sheet.map((row) => row.length));
      const values = window.__sheet.map((row) => Array.from({ length: width }, (_, i) => row[i] ?? ""));
      return { load() {}, values, rowIndex: 0, columnIndex: 0 };
    },
    getCell: cell,
  };
  // Word: what the pane inserts into the open document
  window.Word = {
    run: async (callback) => callback({
      document: { body: { insertFileFromBase64(base64, location) { record.inserted = { size: atob(base64).length, location }; } } },
      sync: async () => {},
    }),
  };
  window.Excel = {
    run: async (callback) => callback({
      workbook: { worksheets: { getActiveWorksheet: () => sheet, getItem: () => sheet } },
      sync: async () => {},
    }),
  };
})();
