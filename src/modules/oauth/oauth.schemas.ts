import { z } from "@hono/zod-openapi";

const Url = z.url().max(2048);

export const AuthorizationServerMetadataSchema = z
  .object({
    issuer: Url.openapi({ description: "The `iss` of every access token" }),
    jwks_uri: Url,
    introspection_endpoint: Url,
    introspection_endpoint_auth_methods_supported: z.array(z.enum(["bearer"])).max(1).openapi({ description: "`bearer`: an API key holding tokens:introspect in `Authorization: Bearer eak_…`" }),
    revocation_endpoint: Url,
    revocation_endpoint_auth_methods_supported: z.array(z.enum(["none"])).max(1).openapi({ description: "`none`: possession of the token is the credential (RFC 7009 §2.1)" }),
    response_types_supported: z.array(z.string().max(32)).max(0).openapi({ description: "Empty: there is no authorization endpoint (no OAuth redirect flows)" }),
    grant_types_supported: z.array(z.string().max(64)).max(0).openapi({ description: "Empty: tokens come from the login and refresh endpoints below, not an OAuth token endpoint" }),
    service_documentation: Url,
    // Extensions (RFC 8414 §2 allows additional metadata): what a resource server needs to verify tokens.
    access_token_signing_alg_values_supported: z.array(z.enum(["EdDSA", "ES256"])).max(2).openapi({ description: "Extension: `alg` values of access tokens" }),
    access_token_type: z.literal("at+jwt").openapi({ description: "Extension: the JOSE `typ` header of access tokens (RFC 9068)" }),
    access_token_audience: z.string().max(256).openapi({ description: "Extension: the `aud` of access tokens (JWT_AUDIENCE)" }),
    access_token_claims_supported: z.array(z.string().max(32)).max(16).openapi({ description: "Extension: claims access tokens carry (roles/permissions only when ACCESS_TOKEN_CLAIMS enables them)" }),
    login_endpoint: Url.openapi({ description: "Extension: where users obtain tokens (JSON email/password, not an OAuth grant)" }),
    refresh_endpoint: Url.openapi({ description: "Extension: where a refresh token is exchanged (JSON, rotating)" }),
  })
  .openapi("AuthorizationServerMetadata");

export type AuthorizationServerMetadata = z.infer<typeof AuthorizationServerMetadataSchema>;

const TokenField = z.string().min(1).max(4096).openapi({ description: "An access token, refresh token (`rt_…`) or API key (`eak_…`)" });
const Hint = z.string().max(64).optional().openapi({ description: "Ignored: the kind is recognised from the token itself" });

export const IntrospectionRequestSchema = z.object({ token: TokenField, token_type_hint: Hint }).strict().openapi("IntrospectionRequest");
export const RevocationRequestSchema = z.object({ token: TokenField, token_type_hint: Hint }).strict().openapi("RevocationRequest");

const Seconds = z.number().int().min(0).max(2 ** 40);

export const IntrospectionSchema = z
  .object({
    active: z.boolean(),
    token_use: z.enum(["access_token", "refresh_token", "api_key"]).optional().openapi({ description: "Extension: which kind of credential this is" }),
    token_type: z.literal("Bearer").optional().openapi({ description: "How the credential is presented (`refresh_token`s are not sent as bearer; then absent)" }),
    sub: z.uuid().optional().openapi({ description: "The user or service account" }),
    sid: z.uuid().optional().openapi({ description: "The session (access and refresh tokens)" }),
    client_id: z.uuid().optional().openapi({ description: "The API key's id (API keys only)" }),
    scope: z.string().max(32_768).optional().openapi({ description: "API keys: their scopes, space-separated" }),
    exp: Seconds.optional(),
    iat: Seconds.optional(),
    iss: z.string().max(2048).optional(),
    aud: z.string().max(256).optional(),
    roles: z.array(z.string().max(64)).max(1000).optional().openapi({ description: "The subject's roles now" }),
    permissions: z.array(z.string().max(128)).max(1000).optional().openapi({ description: "What the token may do now (API keys: scopes ∩ the owner's permissions)" }),
    acr: z.enum(["aal1", "aal2"]).optional().openapi({ description: "Access tokens: the assurance level the token was issued with (docs/mfa.md)" }),
    amr: z.array(z.string().max(16)).max(16).optional().openapi({ description: "Access tokens: how the subject authenticated (RFC 8176 values)" }),
    auth_time: Seconds.optional().openapi({ description: "Access tokens: when the subject signed in" }),
  })
  .openapi("Introspection", { description: "RFC 7662 response; `{ \"active\": false }` alone for anything not currently valid" });

export type Introspection = z.infer<typeof IntrospectionSchema>;
