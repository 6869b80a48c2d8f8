// The sign-in security page (docs/mfa.md, "Hosted pages"): sign in (password, then the second
// factor; or a passkey alone), set up an authenticator app with a QR code, see recovery codes once,
// and add, rename and delete passkeys. The access token lives in this module only: reloading the
// page signs out, and nothing is written to storage.
import { describeFailure, requestJson, setBusy, setFieldError, showStatus } from "./base.js";
import { renderSVG } from "./vendor/qr.js";
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from "./vendor/webauthn.js";

const $ = (id) => document.getElementById(id);
const sections = { signIn: $("sign-in"), secondFactor: $("second-factor"), manage: $("manage") };

let accessToken = null;
let mfaToken = null;

const api = (method, path, payload) => requestJson(method, path, payload, accessToken);

function show(name) {
  for (const [key, section] of Object.entries(sections)) section.hidden = key !== name;
}

/** What to say about a failed call, with the MFA problems in plain words. */
function failure(result) {
  const code = result.body?.code;
  if (code === "invalid_mfa_code") return "That code or passkey was not accepted. Try again.";
  if (code === "invalid_mfa_token") return "This sign-in took too long or was interrupted. Sign in again.";
  if (code === "step_up_required") return "For this change, sign out and sign in again with your second factor, then repeat it.";
  return describeFailure(result);
}

/** Runs a WebAuthn ceremony; resolves to the credential, or null after saying why it did not happen. */
async function ceremony(run) {
  try {
    return await run();
  } catch (error) {
    const cancelled = error?.name === "NotAllowedError" || error?.name === "AbortError";
    showStatus("error", cancelled ? "The passkey request was cancelled or timed out." : `Your browser could not use a passkey: ${error?.message ?? error}`);
    return null;
  }
}

async function signedIn(body, message) {
  accessToken = body.access_token;
  mfaToken = null;
  $("password").value = "";
  show("manage");
  const note = body.recovery_code_used
    ? ` You used a recovery code (${body.recovery_codes_remaining} left): set up a new authenticator below.`
    : "";
  // The status comes last: when it speaks, the page below it is up to date.
  await refresh();
  showStatus("success", `${message}${note}`);
}

// --- Sign in: the password, then (for an account with a factor) the second step. ---

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  setFieldError($("email"), "");
  setFieldError($("password"), "");
  if ($("email").value.trim() === "") return setFieldError($("email"), "Enter your email address.");
  if ($("password").value === "") return setFieldError($("password"), "Enter your password.");
  setBusy(form, true, "Signing in…");
  const result = await api("POST", "/auth/login", { email: $("email").value.trim(), password: $("password").value });
  setBusy(form, false);
  if (!result.ok) return showStatus("error", failure(result));
  if (result.body.status !== "mfa_required") return signedIn(result.body, "You are signed in.");
  mfaToken = result.body.mfa_token;
  $("second-factor-passkey").hidden = !result.body.methods.includes("webauthn") || !browserSupportsWebAuthn();
  show("secondFactor");
  showStatus("info", "One more step: confirm it is you.");
  $("mfa-code").focus();
});

$("code-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const code = $("mfa-code").value.trim();
  setFieldError($("mfa-code"), "");
  if (code === "") return setFieldError($("mfa-code"), "Enter a code.");
  // Six digits are an authenticator code; anything else is tried as a recovery code.
  const method = /^\d{6}$/.test(code.replaceAll(" ", "")) ? "totp" : "recovery_code";
  setBusy(form, true, "Checking…");
  const result = await api("POST", "/auth/mfa/verify", { mfa_token: mfaToken, method, code: method === "totp" ? code.replaceAll(" ", "") : code });
  setBusy(form, false);
  $("mfa-code").value = "";
  if (result.ok) return signedIn(result.body, "You are signed in.");
  if (result.body?.code === "invalid_mfa_token") show("signIn");
  showStatus("error", failure(result));
});

$("second-factor-passkey").addEventListener("click", async () => {
  const options = await api("POST", "/auth/mfa/webauthn/options", { mfa_token: mfaToken });
  if (!options.ok) return showStatus("error", failure(options));
  const credential = await ceremony(() => startAuthentication({ optionsJSON: options.body.options }));
  if (!credential) return;
  const result = await api("POST", "/auth/mfa/verify", { mfa_token: mfaToken, method: "webauthn", credential });
  if (result.ok) return signedIn(result.body, "You are signed in with your passkey.");
  showStatus("error", failure(result));
});

$("passkey-sign-in").addEventListener("click", async () => {
  if (!browserSupportsWebAuthn()) return showStatus("error", "This browser cannot use passkeys.");
  const options = await api("POST", "/auth/passkeys/login/options");
  if (!options.ok) return showStatus("error", failure(options));
  const credential = await ceremony(() => startAuthentication({ optionsJSON: options.body.options }));
  if (!credential) return;
  const result = await api("POST", "/auth/passkeys/login", { credential });
  if (result.ok) return signedIn(result.body, "You are signed in with your passkey.");
  showStatus("error", failure(result));
});

$("sign-out").addEventListener("click", async () => {
  await api("POST", "/auth/logout-all").catch(() => {});
  accessToken = null;
  show("signIn");
  showStatus("info", "You are signed out.");
});

// --- Manage: the authenticator app, recovery codes, passkeys. ---

async function refresh() {
  const [status, passkeys] = await Promise.all([api("GET", "/auth/mfa"), api("GET", "/auth/passkeys")]);
  if (!status.ok || !passkeys.ok) return showStatus("error", failure(status.ok ? passkeys : status));
  const totp = status.body.totp;
  $("totp-state").textContent = totp.enabled
    ? `Your authenticator app is on. Recovery codes left: ${status.body.recovery_codes_remaining}.`
    : "No authenticator app is set up.";
  $("totp-start").hidden = totp.enabled || !$("totp-setup").hidden;
  renderPasskeys(passkeys.body.items);
}

$("totp-start").addEventListener("click", async () => {
  const result = await api("POST", "/auth/mfa/totp");
  if (!result.ok) return showStatus("error", failure(result));
  // The SVG is generated here from the URI; parsed as SVG (not HTML) and adopted, never innerHTML.
  const svg = new DOMParser().parseFromString(renderSVG(result.body.otpauth_uri, { border: 2 }), "image/svg+xml").documentElement;
  svg.setAttribute("aria-hidden", "true");
  $("totp-qr").replaceChildren(document.importNode(svg, true));
  $("totp-secret").textContent = result.body.secret.replace(/(.{4})/g, "$1 ").trim();
  $("totp-secret").dataset.secret = result.body.secret;
  $("totp-setup").hidden = false;
  $("totp-start").hidden = true;
  showStatus("info", "Add the account to your authenticator app, then enter the code it shows.");
  $("totp-code").focus();
});

$("totp-confirm-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const code = $("totp-code").value.replaceAll(" ", "");
  setFieldError($("totp-code"), "");
  if (!/^\d{6}$/.test(code)) return setFieldError($("totp-code"), "Enter the six digits your app shows.");
  setBusy(form, true, "Checking…");
  const result = await api("POST", "/auth/mfa/totp/confirm", { code });
  setBusy(form, false);
  if (!result.ok) return result.body?.code === "invalid_mfa_code" ? setFieldError($("totp-code"), "That code is not right. Check the time on your device and try the newest code.") : showStatus("error", failure(result));
  $("totp-setup").hidden = true;
  $("totp-qr").replaceChildren();
  $("totp-secret").textContent = "";
  showRecoveryCodes(result.body.recovery_codes);
  await refresh();
  showStatus("success", "Your authenticator app is on. Save your recovery codes now.");
});

function showRecoveryCodes(codes) {
  $("recovery-codes").replaceChildren(...codes.map((code) => Object.assign(document.createElement("li"), { textContent: code })));
  $("recovery").hidden = false;
}

$("passkey-add-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  if (!browserSupportsWebAuthn()) return showStatus("error", "This browser cannot create passkeys.");
  setBusy(form, true, "Waiting for your passkey…");
  const options = await api("POST", "/auth/passkeys/registration/options");
  if (!options.ok) {
    setBusy(form, false);
    return showStatus("error", failure(options));
  }
  const credential = await ceremony(() => startRegistration({ optionsJSON: options.body.options }));
  if (!credential) return setBusy(form, false);
  const name = $("passkey-name").value.trim();
  const result = await api("POST", "/auth/passkeys/registration", { credential, ...(name ? { name } : {}) });
  setBusy(form, false);
  if (!result.ok) return showStatus("error", failure(result));
  $("passkey-name").value = "";
  if (result.body.recovery_codes) showRecoveryCodes(result.body.recovery_codes);
  await refresh();
  showStatus("success", `Passkey “${result.body.passkey.name}” added.${result.body.recovery_codes ? " Save your recovery codes now." : ""}`);
});

/** One list item per passkey: its name, a rename form and a delete button, all labelled. */
function renderPasskeys(items) {
  $("passkeys-empty").hidden = items.length > 0;
  $("passkey-list").replaceChildren(
    ...items.map((passkey, index) => {
      const item = document.createElement("li");
      const title = Object.assign(document.createElement("p"), { textContent: passkey.name, className: "passkey-name" });
      const form = Object.assign(document.createElement("form"), { noValidate: true });
      const inputId = `passkey-rename-${index}`;
      const label = Object.assign(document.createElement("label"), { htmlFor: inputId, textContent: `New name for “${passkey.name}”` });
      const input = Object.assign(document.createElement("input"), { id: inputId, type: "text", maxLength: 100, required: true, value: passkey.name });
      const rename = Object.assign(document.createElement("button"), { type: "submit", textContent: "Rename", className: "secondary" });
      const remove = Object.assign(document.createElement("button"), { type: "button", textContent: `Delete “${passkey.name}”`, className: "danger" });
      form.append(Object.assign(document.createElement("div"), { className: "field" }), rename);
      form.firstChild.append(label, input);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const result = await api("PATCH", `/auth/passkeys/${passkey.id}`, { name: input.value.trim() });
        if (!result.ok) return showStatus("error", failure(result));
        await refresh();
        showStatus("success", `Passkey renamed to “${result.body.name}”.`);
      });
      remove.addEventListener("click", async () => {
        const result = await api("DELETE", `/auth/passkeys/${passkey.id}`);
        if (!result.ok) return showStatus("error", failure(result));
        await refresh();
        showStatus("success", `Passkey “${passkey.name}” deleted.`);
      });
      item.append(title, form, remove);
      return item;
    }),
  );
}

show("signIn");
