// The task pane's start: Office.js, language, sign-in, then the view for the host it runs in.
import { Api } from "./api.js";
import { forgetSession, signIn } from "./auth.js";
import { setLanguage, t } from "./i18n.js";
import { loadOffice } from "./loader.js";
import { h, notice } from "./ui.js";

const VIEWS = {
  // loaded on demand: each host only fetches its own module
  Outlook: async (root, api, config) => {
    const outlook = await import("./outlook.js");
    // only a message being read can open a reply form
    const composing = typeof Office.context.mailbox.item.displayReplyForm !== "function";
    return composing ? outlook.composePane(root, api) : outlook.readPane(root, api, config);
  },
  Word: async (root, api) => (await import("./word.js")).wordPane(root, api),
  Excel: async (root, api) => (await import("./excel.js")).excelPane(root, api),
};

async function start() {
  const root = document.getElementById("app");
  try {
    const { config, info } = await loadOffice();
    document.documentElement.lang = setLanguage(new URLSearchParams(location.search).get("lang") || Office.context.displayLanguage);
    root.replaceChildren(h("p.muted", {}, t("loading")));
    const api = new Api({ onExpired: forgetSession });
    const session = await signIn(api, config);
    api.token = session.token;
    document.getElementById("who").textContent = t("signedInAs", { name: session.name });
    const view = VIEWS[info.host];
    if (!view) throw new Error(`Sagspost does not run in ${info.host}.`);
    await view(root, api, config);
  } catch (err) {
    root.replaceChildren();
    notice("error", err.message);
  }
}

start();
