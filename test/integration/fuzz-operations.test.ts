import { SELF } from "cloudflare:test";
import fc from "fast-check";
import type { ZodType } from "zod";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { authedFetch, BASE, createUser, randomIp, type TestUser } from "../helpers/auth";

/**
 * Property-based fuzzing of every operation in the OpenAPI document: requests generated from each
 * operation's schemas (which the zod schemas produce), mostly valid, sometimes broken, sent as an
 * administrator. Properties: no 5xx, every status is one the document declares for the operation,
 * and every JSON body validates against the zod schema the route declares for that status.
 * Bounded: at most FUZZ_RUNS requests per operation and FUZZ_TIME_MS in all, shared equally.
 */
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 6);
const TIME_BUDGET_MS = Number(process.env.FUZZ_TIME_MS ?? 45_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);

type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  items?: JsonSchema;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
};
interface Operation {
  operationId: string;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema: JsonSchema }>;
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, unknown>;
}
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, JsonSchema> } };

/** An arbitrary of values that fit `schema`: the generator the properties run on. */
function arbitrary(schema: JsonSchema, document: Document, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) return arbitrary(document.components.schemas[schema.$ref.split("/").pop() ?? ""] ?? {}, document, depth);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof(...options.map((option) => arbitrary(option, document, depth + 1)));
  if (schema.allOf) return arbitrary(Object.assign({}, ...schema.allOf), document, depth);
  const type = Array.isArray(schema.type) ? schema.type.find((item) => item !== "null") : schema.type;
  switch (type) {
    case "string": {
      const max = Math.min(schema.maxLength ?? 64, 64);
      if (schema.format === "email") return fc.emailAddress().filter((email) => email.length <= (schema.maxLength ?? 254));
      if (schema.format === "uuid") return fc.uuid();
      if (schema.format === "date-time") return fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((date) => date.toISOString());
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter((text) => text.length <= (schema.maxLength ?? 4096));
      return fc.string({ minLength: Math.min(schema.minLength ?? 0, max), maxLength: max });
    }
    case "integer":
      return fc.integer({ min: Math.max(schema.minimum ?? -1e6, -1e9), max: Math.min(schema.maximum ?? 1e6, 1e9) });
    case "number":
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "array":
      return depth > 3 ? fc.constant([]) : fc.array(arbitrary(schema.items ?? {}, document, depth + 1), { maxLength: Math.min(schema.maxItems ?? 3, 3) });
    case "object": {
      if (depth > 3) return fc.constant({});
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record = Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, arbitrary(property, document, depth + 1)]));
      return fc.record(record, { requiredKeys: Object.keys(properties).filter((name) => required.has(name)) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Mostly schema-valid values, sometimes anything at all (validation must answer 4xx, not 5xx). */
const valueOrJunk = (valid: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });

/** The zod schema each route declares per status and media type (what the document was made from). */
function responseSchemas(): Map<string, ZodType> {
  const schemas = new Map<string, ZodType>();
  for (const definition of createApp().openAPIRegistry.definitions) {
    if (definition.type !== "route") continue;
    const { method, path, responses } = definition.route;
    for (const [status, response] of Object.entries(responses ?? {})) {
      const content = (response as { content?: Record<string, { schema?: unknown }> }).content ?? {};
      for (const [media, entry] of Object.entries(content)) {
        if (entry.schema && typeof (entry.schema as ZodType).safeParse === "function") schemas.set(`${method.toUpperCase()} ${path} ${status} ${media}`, entry.schema as ZodType);
      }
    }
  }
  return schemas;
}

/** Operations that would end the fuzzing administrator's own session or account. */
const SKIPPED = new Set(["logout", "logoutAll", "changePassword"]);

describe("fuzzing every operation from its schemas", () => {
  it("never answers 5xx, only declared statuses, and only bodies that match their schema", async () => {
    let admin: TestUser = await createUser({ roles: ["admin"] });
    const document = (await (await authedFetch(`${BASE}/openapi.json`, admin.accessToken)).json()) as Document;
    const schemas = responseSchemas();
    const total = Object.values(document.paths).reduce((sum, item) => sum + Object.values(item).filter((op) => !SKIPPED.has(op.operationId)).length, 0);
    // Each operation gets an equal share of the time budget, so a slow machine fuzzes all of them, less deeply.
    const share = TIME_BUDGET_MS / total;
    const counts = { operations: 0, requests: 0, byStatus: {} as Record<string, number>, validatedBodies: 0 };
    const failures: string[] = [];

    for (const [template, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (SKIPPED.has(operation.operationId)) continue;
        counts.operations += 1;
        const parameters = operation.parameters ?? [];
        const jsonBody = operation.requestBody?.content["application/json"]?.schema;
        const request = fc.record({
          path: fc.record(Object.fromEntries(parameters.filter((p) => p.in === "path").map((p) => [p.name, fc.oneof(arbitrary(p.schema, document), fc.string({ maxLength: 40 }))]))),
          query: fc.record(Object.fromEntries(parameters.filter((p) => p.in === "query").map((p) => [p.name, valueOrJunk(arbitrary(p.schema, document))])), { requiredKeys: [] }),
          body: jsonBody ? valueOrJunk(arbitrary(jsonBody, document)) : fc.constant(undefined),
        });
        // At least one request per operation; more while its share of the time budget lasts.
        const until = Date.now() + share;
        const values = fc.sample(request, { numRuns: RUNS_PER_OPERATION, seed: SEED + counts.operations });
        for (const [index, { path, query, body }] of values.entries()) {
          if (index > 0 && Date.now() > until) break;
          let url = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(path[name])));
          const search = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== undefined).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]));
          if (search.size > 0) url += `?${search}`;
          const headers: Record<string, string> = { Authorization: `Bearer ${admin.accessToken}`, "CF-Connecting-IP": randomIp() };
          if (body !== undefined) headers["Content-Type"] = "application/json";
          const response = await SELF.fetch(`${BASE}${url}`, { method: method.toUpperCase(), headers, body: body === undefined ? undefined : JSON.stringify(body) });
          const status = String(response.status);
          counts.requests += 1;
          counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
          const where = `${method.toUpperCase()} ${url} → ${status}`;
          if (response.status >= 500) failures.push(`${where}: 5xx ${await response.text()}`);
          else if (!(status in operation.responses) && !("default" in operation.responses)) failures.push(`${where}: status not declared`);
          const media = (response.headers.get("Content-Type") ?? "").split(";")[0] ?? "";
          const schema = schemas.get(`${method.toUpperCase()} ${template.replace(/^\/api\/v1/, "/api/v1")} ${status} ${media}`);
          if (schema && media.endsWith("json")) {
            const parsed = schema.safeParse(await response.json());
            counts.validatedBodies += 1;
            if (!parsed.success) failures.push(`${where}: body does not match its schema: ${parsed.error.message.slice(0, 300)}`);
          }
          // An operation that ended the administrator's session (e.g. deleting its own sessions): start over with a new one.
          if (response.status === 401) admin = await createUser({ roles: ["admin"] });
        }
      }
    }
    console.log(`fuzzing: ${counts.operations} operations, ${counts.requests} requests, ${counts.validatedBodies} JSON bodies validated, statuses ${JSON.stringify(counts.byStatus)}`);
    expect(failures).toEqual([]);
    expect(counts.operations).toBe(total);
    expect(counts.requests).toBeGreaterThanOrEqual(total);
    expect(counts.validatedBodies).toBeGreaterThan(counts.requests / 2);
  }, 180_000);
});
