import { Hono, type Context } from "hono";
import type { AppEnv } from "../../bindings";
import type { Config } from "../../config";
import { HOSTED_PAGE_PATHS, isHostedLink, type EmailLinkKind } from "../../lib/mail";
import { PASSWORD_MAX_BYTES } from "../../lib/password-policy";
import { ProblemError } from "../../lib/problem";

/**
 * The hosted pages behind emailed links, for deployments without a frontend (APP_URL and the
 * EMAIL_LINK_* templates unset). Plain HTML from the worker's assets (public/pages/) with the
 * configured values filled in, plus their own CSS and JavaScript; see docs/integration.md,
 * "Email links and hosted pages". They are pages for people, so they are not in the OpenAPI document.
 */
export const pageRoutes = new Hono<AppEnv>();

/**
 * Scripts and styles from this origin only (no inline code, no third party), API calls to this
 * origin only, no framing. `form-action 'none'`: the forms are submitted by script, never natively.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Each hosted page: the emailed link it serves and its file in public/pages/. */
const PAGES: ReadonlyArray<{ kind: EmailLinkKind; asset: string }> = [
  { kind: "verify_email", asset: "verify-email" },
  { kind: "reset_password", asset: "reset-password" },
  { kind: "forgot_password", asset: "forgot-password" },
  { kind: "sign_in", asset: "account" },
];

/**
 * The start of every page's <head>, so the files in public/pages/ hold only what is their own
 * (title, script, body). The charset comes first: browsers look for it in the first 1024 bytes.
 */
const COMMON_HEAD = [
  '<meta charset="utf-8">',
  '<meta name="viewport" content="width=device-width, initial-scale=1">',
  '<meta name="robots" content="noindex">',
  '<link rel="icon" href="/pages/icon.svg" type="image/svg+xml">',
  '<link rel="stylesheet" href="/pages/base.css">',
  "",
].join("\n");

/** Configuration shown in the pages: elements with `data-config="<name>"` get the value. */
function pageValues(config: Config): Record<string, string> {
  return { "password-min-length": String(config.PASSWORD_MIN_LENGTH), "password-max-bytes": String(PASSWORD_MAX_BYTES) };
}

/** Adds the common head and fills `data-config` elements: text content, or `minlength` for an input. */
function renderPage(page: Response, values: Record<string, string>): Response {
  return new HTMLRewriter()
    .on("head", {
      element(head) {
        head.prepend(`\n${COMMON_HEAD}`, { html: true });
      },
    })
    .on("[data-config]", {
      element(element) {
        const value = values[element.getAttribute("data-config") ?? ""];
        if (value === undefined) return;
        if (element.tagName === "input") element.setAttribute("minlength", value);
        else element.setInnerContent(value);
        element.removeAttribute("data-config");
      },
    })
    .transform(page);
}

/**
 * Sign-in security (docs/mfa.md, "Hosted pages"): sign in with a second factor or a passkey, set up
 * an authenticator app, see recovery codes once, manage passkeys. Served with the other hosted
 * pages (no frontend configured); the MFA emails link to it.
 */
const SECURITY_PAGE = { path: "/account/security", kind: "sign_in", asset: "account-security" } as const;

for (const { kind, asset, path } of [...PAGES.map((page) => ({ ...page, path: HOSTED_PAGE_PATHS[page.kind] as string })), SECURITY_PAGE]) {
  pageRoutes.get(path, async (c) => {
    // With a frontend configured, emails never link here: the page does not exist.
    if (!isHostedLink(c.var.config, kind)) throw new ProblemError("not_found", { detail: "No route matches this path." });
    // The assets binding serves `<name>.html` for `/pages/<name>` (html_handling auto-trailing-slash).
    const stored = await c.env.ASSETS.fetch(new URL(`/pages/${asset}`, c.req.url));
    if (!stored.ok) throw new ProblemError("internal_error", { detail: "The page is missing from the deployed assets.", cause: new Error(`asset /pages/${asset} answered ${stored.status}`) });
    const page = renderPage(stored, pageValues(c.var.config));
    return new Response(page.body, {
      status: 200,
      headers: {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": PAGE_CSP,
        // The URL carries a single-use token; nothing about it belongs in a cache.
        "Cache-Control": "no-store",
      },
    });
  });
}

/**
 * The pages' own CSS, JavaScript and icon (and later pages' files): only these kinds are served.
 * The SVG is ours, and the API's `default-src 'none'` CSP applies to it, so it can run nothing.
 */
const PAGE_FILE = /^[a-z0-9-]+\.(css|js|svg)$/;

/** The browser libraries bundled from node_modules (scripts/page-vendor.mjs). */
const VENDOR_FILE = /^[a-z0-9-]+\.js$/;

async function pageFile(c: Context<AppEnv>, folder: string, file: string, allowed: RegExp): Promise<Response> {
  if (!allowed.test(file)) throw new ProblemError("not_found", { detail: "No route matches this path." });
  const stored = await c.env.ASSETS.fetch(new URL(`${folder}/${file}`, c.req.url));
  if (!stored.ok) throw new ProblemError("not_found", { detail: "No route matches this path." });
  const copy = new Response(stored.body, stored);
  // Not fingerprinted: a short lifetime so a deploy reaches browsers within minutes.
  copy.headers.set("Cache-Control", "public, max-age=300");
  return copy;
}

pageRoutes.get("/pages/:file", (c) => pageFile(c, "/pages", c.req.param("file"), PAGE_FILE));
pageRoutes.get("/pages/vendor/:file", (c) => pageFile(c, "/pages/vendor", c.req.param("file"), VENDOR_FILE));
