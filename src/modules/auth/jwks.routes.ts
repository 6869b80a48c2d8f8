import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { publicJwks } from "../../lib/jwt";
import { errorResponses, jsonContent } from "../../lib/openapi";
import { JwksSchema } from "./auth.schemas";

export const jwksRoutes = new OpenAPIHono<AppEnv>();

const getJwks = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  operationId: "getJwks",
  tags: ["Auth"],
  summary: "The public keys that verify access tokens (RFC 7517), for other services at the edge",
  responses: { ...errorResponses(), 200: jsonContent(JwksSchema, "The JSON Web Key Set") },
});

jwksRoutes.openapi(getJwks, async (c) => {
  const jwks = await publicJwks(c.get("config"));
  c.header("Cache-Control", "public, max-age=300");
  return c.json(jwks as z.infer<typeof JwksSchema>, 200);
});
