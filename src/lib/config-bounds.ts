import type { Config } from "../config";
import { ProblemError } from "./problem";

/**
 * Request fields whose upper bound is a setting (e.g. a link lifetime bounded by FILE_LINK_TTL).
 * The zod schema keeps the setting's hard ceiling and names the setting (`x-config-max`); the
 * document builder writes the configured value into `maximum`, and the service enforces that same
 * value, so the document never promises more than the server accepts (a test compares them).
 */
export type ConfigBound = "FILE_LINK_TTL" | "API_KEY_MAX_TTL" | "API_KEY_MAX_ROTATION_OVERLAP";

/** OpenAPI metadata for a numeric field bounded by `setting`. */
export function configMax(setting: ConfigBound) {
  return { "x-config-max": setting } as const;
}

/**
 * Throws a 422 on `path` when `value` exceeds the configured bound.
 *
 * @example assertConfigMax(config, "FILE_LINK_TTL", body.expires_in, "body.expires_in")
 */
export function assertConfigMax(config: Config, setting: ConfigBound, value: number, path: string): void {
  const max = config[setting];
  if (value > max) {
    throw new ProblemError("validation_failed", {
      detail: "The request has invalid fields; see `errors`.",
      errors: [{ path, message: `must be at most ${max} (${setting})` }],
    });
  }
}

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

/** Replaces `maximum` of every schema marked `x-config-max` with the configured value; mutates `node`. */
export function applyConfigBounds(node: unknown, config: Config): void {
  if (Array.isArray(node)) {
    for (const item of node) applyConfigBounds(item, config);
    return;
  }
  if (!isObject(node)) return;
  const setting = node["x-config-max"];
  if (typeof setting === "string" && setting in config) {
    const max = config[setting as ConfigBound];
    node.maximum = max;
    if (typeof node.default === "number" && node.default > max) node.default = max;
  }
  for (const value of Object.values(node)) applyConfigBounds(value, config);
}
