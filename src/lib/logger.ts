/**
 * Structured JSON logging: one object per line on stdout, which Workers Logs indexes.
 * Fields whose names look like credentials are replaced before anything is written.
 */

export const logLevels = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof logLevels;

const SECRET_FIELD = /pass(word)?|token|secret|authorization|cookie|api[_-]?key|signature|reset_link|jwk/i;

const MAX_DEPTH = 6;

/**
 * Replaces the values of credential-like fields with "[redacted]". Objects nested deeper than
 * the walk goes are replaced by "[truncated]": returning them as they are would log their secrets.
 *
 * @example redact({ email: "a@b.c", password: "hunter2" }) // { email: "a@b.c", password: "[redacted]" }
 */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_DEPTH) return "[truncated]";
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) ? "[redacted]" : redact(item, depth + 1);
  }
  return out;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines all carry `fields` too. */
  child(fields: Record<string, unknown>): Logger;
}

/**
 * @example
 * const log = createLogger("info", { request_id: "abc" });
 * log.warn("limiter unavailable", { policy: "api" }); // {"level":"warn","request_id":"abc",...}
 */
export function createLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  const threshold = logLevels[level];
  const write = (lineLevel: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (logLevels[lineLevel] < threshold) return;
    const fixed = { timestamp: new Date().toISOString(), level: lineLevel, message };
    // The fixed keys come first and cannot be overwritten by a field of the same name.
    const line = { ...fixed, ...base, ...(redact(fields ?? {}) as object), ...fixed };
    const text = JSON.stringify(line);
    if (lineLevel === "error") console.error(text);
    else if (lineLevel === "warn") console.warn(text);
    else console.log(text);
  };
  return {
    debug: (message, fields) => write("debug", message, fields),
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
    child: (fields) => createLogger(level, { ...base, ...(redact(fields) as object) }),
  };
}

/** Error details for the log (never for a response). */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return {
      error_name: error.name,
      error_message: redactQueryParams(error.message),
      stack: error.stack === undefined ? undefined : redactQueryParams(error.stack),
      cause: error.cause === undefined ? undefined : redactQueryParams(String(error.cause)),
    };
  }
  return { error_message: redactQueryParams(String(error)) };
}

/**
 * Drops the bound values from a failed query's text. Drizzle reports `Failed query: <sql>
 * params: <values>`, and the values are user data (emails, names, token hashes): the SQL says
 * what failed, the values must not reach the log.
 */
export function redactQueryParams(text: string): string {
  return text.replace(/(\bparams:)[^\n]*/g, "$1 [redacted]");
}
