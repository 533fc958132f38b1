// The Office dialog's sign-in page: a Sagspost account gives the pane a personal API token.
import { Api } from "./api.js";
import { setLanguage, t } from "./i18n.js";
import { loadOffice } from "./loader.js";

const ready = loadOffice().then((loaded) => { setLanguage(Office.context.displayLanguage); return loaded; });
const form = document.getElementById("signin");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("error");
  error.textContent = "";
  try {
    const session = await new Api().post("/api/addin/sign-in", Object.fromEntries(new FormData(form)));
    await ready;
    Office.context.ui.messageParent(JSON.stringify(session));
  } catch (err) {
    // here a 401 means wrong credentials, not an expired sign-in
    error.textContent = err.status === 401 ? t("signInFailed") : err.message;
  }
});
