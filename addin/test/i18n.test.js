import assert from "node:assert/strict";
import { test } from "node:test";

import { setLanguage, t } from "../src/i18n.js";

test("Danish unless Office runs in English, with values filled in", () => {
  assert.equal(setLanguage("da-DK"), "da");
  assert.equal(t("archivedOn", { number: "2026-000001", title: "Tilskud" }), "Journaliseret på sag 2026-000001 – Tilskud");
  assert.equal(setLanguage("en-GB"), "en");
  assert.equal(t("rowProblem", { row: 17, message: "invalid CPR" }), "Row 17: invalid CPR");
  assert.equal(setLanguage("fr-FR"), "da");
});
