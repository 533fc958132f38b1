// Signing the pane in: single sign-on with nested app authentication (MSAL.js) exchanged for a
// Sagspost token, or the Sagspost sign-in page in an Office dialog where SSO is not available.
import { loadScript } from "./loader.js";

const KEY = "sagspost.pane";

export function storedSession(storage = globalThis.localStorage, now = Date.now()) {
  try {
    const session = JSON.parse(storage.getItem(KEY) || "null");
    return session && Date.parse(session.expires_at) > now + 60_000 ? session : null;
  } catch {
    return null;
  }
}

export function storeSession(session, storage = globalThis.localStorage) {
  storage.setItem(KEY, JSON.stringify(session));
  return session;
}

export function forgetSession(storage = globalThis.localStorage) {
  storage.removeItem(KEY);
}

let msalApp = null;

/** An Entra access token for the Sagspost API, or null where SSO is not set up or not possible. */
export async function entraToken(config) {
  if (!config.entra_client_id) return null;
  try {
    if (!msalApp) {
      if (!globalThis.msal) await loadScript(config.msal_js);
      msalApp = await globalThis.msal.createNestablePublicClientApplication({
        auth: { clientId: config.entra_client_id, authority: `${config.entra_authority}/organizations` },
      });
    }
    const request = { scopes: [config.entra_scope] };
    try {
      return (await msalApp.acquireTokenSilent(request)).accessToken;
    } catch {
      return (await msalApp.acquireTokenPopup(request)).accessToken;
    }
  } catch {
    return null; // the host does not support NAA, or the user cancelled: the dialog is the way in
  }
}

export async function signIn(api, config) {
  const stored = storedSession();
  if (stored) return stored;
  const token = await entraToken(config);
  if (token) return storeSession(await api.post("/api/addin/entra-sign-in", { token }));
  return storeSession(await dialogSignIn());
}

function dialogSignIn() {
  const url = new URL("signin.html", globalThis.location.href).toString();
  return new Promise((resolve, reject) => {
    Office.context.ui.displayDialogAsync(url, { height: 50, width: 30, displayInIframe: true }, (result) => {
      if (result.status !== "succeeded") { reject(new Error(result.error?.message || "dialog")); return; }
      const dialog = result.value;
      dialog.addEventHandler(Office.EventType.DialogMessageReceived, (arg) => {
        dialog.close();
        resolve(JSON.parse(arg.message));
      });
      dialog.addEventHandler(Office.EventType.DialogEventReceived, () => reject(new Error("sign-in cancelled")));
    });
  });
}
