import type { Config } from "../../config";

/**
 * An absolute link into the service, always from PUBLIC_BASE_URL: never from the request's Host or
 * X-Forwarded-Host, which an attacker controls (a poisoned reset link would send the token to them).
 *
 * @example
 * buildLink(config, "/verify-email", { token }) // "https://auth.example.com/verify-email?token=…"
 */
export function buildLink(config: Pick<Config, "PUBLIC_BASE_URL">, path: string, params: Record<string, string> = {}): string {
  // Only a plain absolute path: "//host", a scheme or a backslash could point the link elsewhere.
  if (!/^\/(?![/\\])[^?#\\\s]*$/.test(path)) throw new TypeError(`buildLink needs an absolute path without query or fragment, got ${JSON.stringify(path)}`);
  const base = config.PUBLIC_BASE_URL.replace(/\/+$/, "");
  const query = new URLSearchParams(params).toString();
  return `${base}${path}${query === "" ? "" : `?${query}`}`;
}

/**
 * A lifetime in words for an email ("24 hours", "30 minutes"), from seconds.
 *
 * @example describeTtl(1800) // "30 minutes"
 */
export function describeTtl(seconds: number): string {
  const units: Array<[number, string]> = [
    [86_400, "day"],
    [3_600, "hour"],
    [60, "minute"],
  ];
  for (const [size, name] of units) {
    // Whole days only when exact: "36 hours" reads better than "1.5 days".
    if (seconds >= size && seconds % size === 0) {
      const count = seconds / size;
      if (name === "day" && count === 1) return "24 hours";
      return `${count} ${name}${count === 1 ? "" : "s"}`;
    }
  }
  const minutes = Math.max(1, Math.round(seconds / 60));
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** The links an email can carry, and the path each has on the frontend (APP_URL). */
export const EMAIL_LINK_PATHS = {
  verify_email: "/verify-email",
  reset_password: "/reset-password",
  forgot_password: "/forgot-password",
  sign_in: "/login",
} as const;

/**
 * The same links on this service's own hosted pages (src/modules/pages), used when no frontend is
 * configured. There is no hosted sign-in (tokens belong to the application the user signs in to):
 * its link leads to a landing page that says so.
 */
export const HOSTED_PAGE_PATHS = { ...EMAIL_LINK_PATHS, sign_in: "/account" } as const;

export type EmailLinkKind = keyof typeof EMAIL_LINK_PATHS;

type LinkConfig = Pick<Config, "PUBLIC_BASE_URL" | "APP_URL" | "EMAIL_LINK_VERIFY_URL" | "EMAIL_LINK_RESET_URL">;

function template(config: LinkConfig, kind: EmailLinkKind): string | undefined {
  if (kind === "verify_email") return config.EMAIL_LINK_VERIFY_URL;
  if (kind === "reset_password") return config.EMAIL_LINK_RESET_URL;
  return undefined;
}

/**
 * Whether this service serves the page of a link itself: only when neither a template nor APP_URL
 * sends that link to a frontend (a page nobody is sent to is surface without use).
 */
export function isHostedLink(config: LinkConfig, kind: EmailLinkKind): boolean {
  return config.APP_URL === undefined && template(config, kind) === undefined;
}

/**
 * The absolute URL an email links to: the per-link template (EMAIL_LINK_*_URL, `{token}` replaced),
 * else the path on APP_URL, else the hosted page on PUBLIC_BASE_URL. Never from the request's Host.
 *
 * @example
 * emailLink(config, "verify_email", token) // "https://app.example.com/verify?token=…" with EMAIL_LINK_VERIFY_URL
 */
export function emailLink(config: LinkConfig, kind: EmailLinkKind, token?: string): string {
  const custom = template(config, kind);
  if (custom !== undefined && token !== undefined) return custom.replace("{token}", encodeURIComponent(token));
  const params: Record<string, string> = token === undefined ? {} : { token };
  if (config.APP_URL !== undefined) return buildLink({ PUBLIC_BASE_URL: config.APP_URL }, EMAIL_LINK_PATHS[kind], params);
  return buildLink(config, HOSTED_PAGE_PATHS[kind], params);
}
