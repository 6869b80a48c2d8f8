import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../bindings";

export const API_CSP = "default-src 'none'; frame-ancestors 'none'";
const HSTS = "max-age=31536000; includeSubDomains";

const baseHeaders: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Permissions-Policy": "accelerometer=(), camera=(), geolocation=(), gyroscope=(), microphone=(), payment=(), usb=(), interest-cohort=()",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/**
 * Sets the security headers on every response, errors included. A route that needs a different
 * Content-Security-Policy (the docs page, file downloads) or Cross-Origin-Resource-Policy (inline
 * images) sets its own and keeps it.
 */
export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const headers = c.res.headers;
  for (const [name, value] of Object.entries(baseHeaders)) {
    // Inline images on signed links may be embedded by the frontend origins (files.serve.ts).
    if (name === "Cross-Origin-Resource-Policy" && headers.has(name)) continue;
    headers.set(name, value);
  }
  if (!headers.has("Content-Security-Policy")) headers.set("Content-Security-Policy", API_CSP);
  if (new URL(c.req.url).protocol === "https:") headers.set("Strict-Transport-Security", HSTS);
  headers.delete("X-Powered-By");
  headers.delete("Server");
});
