// Calls to the Sagspost API with the pane's token, and errors a caseworker can act on.
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(message, { status = 0, body = null, kind = "server" } = {}) {
    super(message);
    this.status = status;
    this.body = body;
    this.kind = kind; // offline | expired | forbidden | notfound | invalid | unavailable | missing | server
  }
}

/** The human sentence for a failed call: what went wrong and what to do. */
export function explain(status, body) {
  const message = detail(body);
  if (status === 401) return { kind: "expired", text: t("errExpired") };
  if (status === 403) return { kind: "forbidden", text: t("errForbidden", { message }) };
  if (status === 404) return { kind: "notfound", text: t("errNotFound", { message }) };
  if (status === 422 || status === 409 || status === 400) return { kind: "invalid", text: t("errInvalid", { message }) };
  if (status === 503) return { kind: "unavailable", text: t("errUnavailable", { message }) };
  return { kind: "server", text: t("errServer", { status, message }) };
}

function detail(body) {
  if (!body || typeof body !== "object") return "";
  const fields = body.errors ? Object.entries(body.errors).flatMap(([name, errs]) => fieldMessages(name, errs)) : [];
  return [body.message, ...fields].filter(Boolean).join(" ");
}

function fieldMessages(name, errors) {
  if (Array.isArray(errors)) return errors.map((e) => (typeof e === "string" ? `${name}: ${e}` : `${name}: ${JSON.stringify(e)}`));
  if (errors && typeof errors === "object") return Object.entries(errors).flatMap(([k, v]) => fieldMessages(`${name}.${k}`, v));
  return [`${name}: ${errors}`];
}

export class Api {
  constructor({ base = "", token = null, fetchImpl = globalThis.fetch.bind(globalThis), onExpired = () => {} } = {}) {
    this.base = base;
    this.token = token;
    this.fetch = fetchImpl;
    this.onExpired = onExpired;
  }

  async request(method, path, { json, form, query, raw = false } = {}) {
    const url = new URL(this.base + path, globalThis.location?.href ?? "http://localhost/");
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    }
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    let response;
    try {
      response = await this.fetch(url.toString(), { method, headers, body });
    } catch (err) {
      throw new ApiError(t("errOffline"), { kind: "offline" });
    }
    if (!response.ok) {
      const payload = await response.json().catch(() => null);
      const { kind, text } = explain(response.status, payload);
      if (kind === "expired") this.onExpired();
      throw new ApiError(text, { status: response.status, body: payload, kind });
    }
    if (raw) return response;
    if (response.status === 204) return null;
    return response.json();
  }

  get(path, query) { return this.request("GET", path, { query }); }
  post(path, json) { return this.request("POST", path, { json }); }
  put(path, json) { return this.request("PUT", path, { json }); }
  postForm(path, form) { return this.request("POST", path, { form }); }
  async blob(path) { return (await this.request("GET", path, { raw: true })).blob(); }
}

/** A FormData from plain values; arrays repeat the field, Blobs are files, null/undefined are left out. */
export function formData(values) {
  const form = new FormData();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) value.forEach((v) => form.append(key, v));
    else if (value instanceof Blob) form.append(key, value, value.name || key);
    else form.append(key, String(value));
  }
  return form;
}
