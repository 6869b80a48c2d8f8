import type { Config } from "../../env";

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
