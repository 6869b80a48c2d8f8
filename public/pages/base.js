// Shared behaviour of the hosted pages (docs/integration.md, "Email links and hosted pages").
// An ES module served from the worker's own assets: the pages' CSP allows scripts from this origin
// only, so nothing here may be inlined into the HTML. Other pages (MFA) import these helpers.

/** API calls of the pages: same origin, JSON in and out, never cookies (the API uses none). */
export const API_BASE = "/api/v1";

/**
 * The `token` of an emailed link, removed from the address bar at once so it stays out of the
 * history, bookmarks and anything shared from this tab. Returns null when the link had none.
 */
export function takeToken() {
  const url = new URL(window.location.href);
  const token = url.searchParams.get("token");
  if (token !== null) {
    url.searchParams.delete("token");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return token !== null && token.trim() !== "" ? token.trim() : null;
}

/**
 * Calls the API with JSON and resolves to `{ ok, status, body, retryAfter }`, where body is the parsed
 * JSON (a problem for errors) or null. A network failure resolves with status 0, never rejects.
 * `accessToken` (kept in memory by the page that signed in, never stored) goes in a bearer header.
 */
export async function requestJson(method, path, payload, accessToken) {
  const headers = { Accept: "application/json, application/problem+json" };
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  try {
    const response = await fetch(API_BASE + path, {
      method,
      headers,
      body: payload === undefined ? undefined : JSON.stringify(payload),
      credentials: "omit",
      cache: "no-store",
    });
    const text = await response.text();
    let body = null;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    return { ok: response.ok, status: response.status, body, retryAfter: Number(response.headers.get("Retry-After") ?? "0") };
  } catch {
    return { ok: false, status: 0, body: null };
  }
}

/** POSTs JSON to the API without credentials (the emailed-link pages); see requestJson. */
export function postJson(path, payload) {
  return requestJson("POST", path, payload);
}

/** What a person should read for a failed call: plain words, the next step, never a stack. */
export function describeFailure(result) {
  if (result.status === 0) return "The service could not be reached. Check your connection and try again.";
  const problem = result.body ?? {};
  if (problem.code === "rate_limited") {
    const wait = result.retryAfter;
    return wait > 0 ? `Too many attempts. Try again in ${wait} seconds.` : "Too many attempts. Try again in a few minutes.";
  }
  if (problem.code === "invalid_token") return "This link is invalid, has expired or was already used.";
  if (problem.code === "validation_failed" && Array.isArray(problem.errors) && problem.errors.length > 0) {
    return problem.errors.map((issue) => issue.message).join(" ");
  }
  if (typeof problem.detail === "string" && problem.detail !== "") return problem.detail;
  return "Something went wrong. Try again later.";
}

/**
 * Writes into the page's live region (`role="status"`, `aria-live`), which announces it. `kind`
 * is "success", "error" or "info" (the colour; the words carry the meaning).
 */
export function showStatus(kind, message) {
  const region = document.getElementById("status");
  region.dataset.kind = kind;
  region.textContent = message;
}

/** Disables a form's button while a request runs, so a double press sends one request. */
export function setBusy(form, busy, busyLabel) {
  const button = form.querySelector("button[type=submit]");
  if (!button) return;
  if (busy) {
    button.dataset.label = button.textContent;
    if (busyLabel) button.textContent = busyLabel;
  } else if (button.dataset.label) {
    button.textContent = button.dataset.label;
  }
  button.disabled = busy;
  form.setAttribute("aria-busy", busy ? "true" : "false");
}

/**
 * Shows a message under one input (its `<p class="field-error" id="<input id>-error">`), marks the
 * input invalid for assistive technology, and moves focus there. An empty message clears it.
 */
export function setFieldError(input, message) {
  const error = document.getElementById(`${input.id}-error`);
  if (error) error.textContent = message;
  if (message) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  } else {
    input.removeAttribute("aria-invalid");
  }
}

/** Replaces a finished form with its result: the form goes away, the live region speaks. */
export function finish(form, kind, message) {
  form.hidden = true;
  showStatus(kind, message);
  const next = document.getElementById("next-steps");
  if (next) next.hidden = false;
}
