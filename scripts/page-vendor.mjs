// The hosted pages' browser libraries, bundled from node_modules into public/pages/vendor/ (git-ignored,
// rebuilt after every install like Swagger UI's files): the pages' CSP allows scripts from this origin
// only, and they ship as plain ES modules without a build step of their own.
//   webauthn.js  @simplewebauthn/browser: navigator.credentials.create()/get() with the JSON options
//                the API returns (base64url <-> ArrayBuffer, browser quirks), for the passkey pages
//   qr.js        uqr: the otpauth:// URI of a TOTP enrollment as an SVG QR code, drawn in the browser
//                (the secret is shown once, so it never goes back to the server to be drawn)
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { buildSync } from "esbuild";
import { root } from "./lib.mjs";

const ENTRIES = {
  "webauthn.js": 'export { startAuthentication, startRegistration, browserSupportsWebAuthn } from "@simplewebauthn/browser";',
  "qr.js": 'export { renderSVG } from "uqr";',
};

/** Writes the bundles when missing (or always with `force`); returns the directory. */
export function buildPageVendor({ force = false } = {}) {
  const target = path.join(root, "public", "pages", "vendor");
  mkdirSync(target, { recursive: true });
  for (const [file, source] of Object.entries(ENTRIES)) {
    const outfile = path.join(target, file);
    if (!force && existsSync(outfile)) continue;
    buildSync({ stdin: { contents: source, resolveDir: root, loader: "js" }, bundle: true, format: "esm", minify: true, target: "es2022", outfile, legalComments: "inline", logLevel: "warning" });
  }
  return target;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`✓ page libraries in ${path.relative(root, buildPageVendor({ force: true }))}/`);
}
