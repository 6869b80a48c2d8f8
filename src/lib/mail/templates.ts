/**
 * The transactional emails: plain text plus a minimal HTML alternative. Every value placed in the
 * HTML is escaped, and links must be http(s) URLs (built by `buildLink` from PUBLIC_BASE_URL).
 */
import type { MailContent } from "./message";

const PRODUCT = "Edge Auth";

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function assertHttpLink(link: string): string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new TypeError("email links must be absolute URLs");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError("email links must be http(s) URLs");
  return link;
}

type Block = { paragraph: string } | { link: string; label: string };

/** Renders the same blocks as text and as HTML, so the two alternatives cannot drift apart. */
function render(title: string, blocks: Block[]): { text: string; html: string } {
  const text = blocks.map((block) => ("paragraph" in block ? block.paragraph : `${block.label}:\n${block.link}`)).join("\n\n");
  const body = blocks
    .map((block) =>
      "paragraph" in block
        ? `<p>${escapeHtml(block.paragraph)}</p>`
        : `<p><a href="${escapeHtml(block.link)}">${escapeHtml(block.label)}</a></p>\n<p style="font-size:12px;color:#555">${escapeHtml(block.link)}</p>`,
    )
    .join("\n");
  const html =
    `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n` +
    `<body style="font-family:sans-serif;line-height:1.5;max-width:560px">\n${body}\n</body>\n</html>\n`;
  return { text: `${text}\n\n-- \n${PRODUCT}\n`, html };
}

/**
 * Asks a new user to confirm the address.
 *
 * @example verificationEmail(buildLink(config, "/verify-email", { token }), describeTtl(86400))
 */
export function verificationEmail(link: string, ttlText: string): MailContent {
  const subject = `Confirm your email address for ${PRODUCT}`;
  return {
    kind: "verify_email",
    subject,
    ...render(subject, [
      { paragraph: `Welcome to ${PRODUCT}. Please confirm that this is your email address.` },
      { label: "Confirm your email address", link: assertHttpLink(link) },
      { paragraph: `The link works once and expires in ${ttlText}. If you did not create an account, ignore this email.` },
    ]),
  };
}

/** Sends a password reset link to an existing account. */
export function passwordResetEmail(link: string, ttlText: string): MailContent {
  const subject = `Reset your ${PRODUCT} password`;
  return {
    kind: "password_reset",
    subject,
    ...render(subject, [
      { paragraph: "Someone, hopefully you, asked to reset the password of your account." },
      { label: "Choose a new password", link: assertHttpLink(link) },
      {
        paragraph:
          `The link works once and expires in ${ttlText}; a newer request replaces it. ` +
          "Resetting the password signs you out everywhere. If you did not ask for this, ignore this email: your password stays as it is.",
      },
    ]),
  };
}

/**
 * Sent instead of a verification email when someone registers with an address that already has an
 * account, so registration answers the same for every address without leaving the owner unaware.
 */
export function registrationAttemptEmail(loginLink: string, resetLink: string): MailContent {
  const subject = `Someone tried to register with your address at ${PRODUCT}`;
  return {
    kind: "registration_attempt",
    subject,
    ...render(subject, [
      { paragraph: "Someone tried to create an account with this email address, but it already has one. No new account was created." },
      { label: "Sign in to your account", link: assertHttpLink(loginLink) },
      { label: "Forgot your password? Reset it", link: assertHttpLink(resetLink) },
      { paragraph: "If this was not you, you can ignore this email; nothing about your account has changed." },
    ]),
  };
}

/** Confirms a password change or reset, so an owner notices one they did not make. */
export function passwordChangedEmail(resetLink?: string): MailContent {
  const subject = `Your ${PRODUCT} password was changed`;
  const blocks: Block[] = [
    { paragraph: "The password of your account was just changed, and your other sessions were signed out." },
    { paragraph: "If you did not do this, reset your password now and review your account's sessions." },
  ];
  if (resetLink !== undefined) blocks.push({ label: "Reset your password", link: assertHttpLink(resetLink) });
  return { kind: "password_changed", subject, ...render(subject, blocks) };
}

/**
 * Tells the owner their second factors changed without them at the keyboard: an administrator
 * removed them (lost device) or a recovery code was used to sign in.
 */
export function mfaChangedEmail(event: "reset_by_admin" | "recovery_code_used", securityLink: string): MailContent {
  const subject = event === "reset_by_admin" ? `Your ${PRODUCT} two-step verification was reset` : `A ${PRODUCT} recovery code was used`;
  const what =
    event === "reset_by_admin"
      ? "An administrator removed the authenticator app, passkeys and recovery codes of your account. Sign in with your password and set up two-step verification again."
      : "A recovery code was just used to sign in to your account. That code no longer works; set up your authenticator again and keep the remaining codes safe.";
  return {
    kind: "mfa_changed",
    subject,
    ...render(subject, [
      { paragraph: what },
      { paragraph: "If this was not you, reset your password now and contact your administrator." },
      { label: "Manage two-step verification", link: assertHttpLink(securityLink) },
    ]),
  };
}
