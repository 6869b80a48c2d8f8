import { z } from "@hono/zod-openapi";
import { ProblemSchema } from "../openapi";
import { QUOTA_EXCEEDED_TYPE } from "../problem";
import { type PolicyName, policyNames, rateLimitPolicies } from "./policies";

/** The 429 body: a problem of the IANA `quota-exceeded` type naming the exhausted policies. */
export const RateLimitProblemSchema = ProblemSchema.extend({
  type: z.literal(QUOTA_EXCEEDED_TYPE),
  "violated-policies": z
    .array(z.enum(policyNames as [PolicyName, ...PolicyName[]]))
    .max(policyNames.length)
    .openapi({ description: "The exhausted policies", example: ["login_account"] }),
}).openapi("RateLimitProblem");

const stringSchema = { type: "string" as const };

/** The fields every response of a rate-limited route carries (draft-ietf-httpapi-ratelimit-headers-10). */
export const rateLimitResponseHeaders = {
  "RateLimit-Policy": {
    description: 'The policies applied, as a Structured Fields list: `"login_account";q=5;w=900` (quota q per window w seconds)',
    schema: stringSchema,
  },
  RateLimit: {
    description: 'What is left of each policy: `"login_account";r=2;t=412` (r units remaining, t seconds until quota returns)',
    schema: stringSchema,
  },
};

function describePolicies(policies: readonly PolicyName[]): string {
  return policies
    .map((name) => {
      const policy = rateLimitPolicies[name];
      return `\`${name}\`: ${policy.limit} per ${policy.window} s (${policy.description})`;
    })
    .join("; ");
}

/** The 429 response entry for `responses`. */
export function rateLimitedResponse(policies: readonly PolicyName[]) {
  return {
    description: `Rate limit exceeded. Default policies (overridable by configuration): ${describePolicies(policies)}.`,
    headers: {
      "X-Request-Id": { description: "The request id, also the problem's `instance`", schema: stringSchema },
      "Retry-After": { description: "Seconds to wait; never earlier than the RateLimit field's t", schema: { type: "integer" as const } },
      "RateLimit-Policy": rateLimitResponseHeaders["RateLimit-Policy"],
      RateLimit: { description: "The violated policies, each with r=0 and t", schema: stringSchema },
    },
    content: { "application/problem+json": { schema: RateLimitProblemSchema } },
  };
}

function isZodObject(value: unknown): value is z.ZodObject {
  return value instanceof z.ZodObject;
}

/**
 * A route's `responses` with the rate-limit contract added: the 429 response, and the RateLimit
 * fields on every other response (they are sent on successes and errors alike).
 *
 * @example
 * responses: withRateLimit({ 200: jsonContent(TokensSchema, "Signed in"), ...errorResponses(401) }, ["login_ip", "login_account"])
 */
export function withRateLimit<R extends Record<string | number, object>>(
  responses: R,
  policies: readonly PolicyName[],
): R & { 429: ReturnType<typeof rateLimitedResponse> } {
  const out: Record<string, object> = {};
  for (const [status, response] of Object.entries(responses)) {
    if ("$ref" in response) {
      out[status] = response;
      continue;
    }
    const headers = (response as { headers?: unknown }).headers;
    const merged = isZodObject(headers)
      ? headers.extend({
          "RateLimit-Policy": z.string().optional().openapi({ description: rateLimitResponseHeaders["RateLimit-Policy"].description }),
          RateLimit: z.string().optional().openapi({ description: rateLimitResponseHeaders.RateLimit.description }),
        })
      : { ...(headers as Record<string, unknown> | undefined), ...rateLimitResponseHeaders };
    out[status] = { ...response, headers: merged };
  }
  out[429] = rateLimitedResponse(policies);
  return out as R & { 429: ReturnType<typeof rateLimitedResponse> };
}
