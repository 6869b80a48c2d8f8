import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/*
 * Conventions: ids are random UUIDv7 strings (never sequential), times are integer epoch
 * milliseconds, booleans are integers. Tables are plural snake_case.
 */

const createdAt = () => integer("created_at").notNull();

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** Normalized (trim, NFKC, lower-case); the unique key of an account. */
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    firstName: text("first_name").notNull(),
    middleName: text("middle_name"),
    lastName: text("last_name").notNull(),
    roleTitle: text("role_title"),
    emailVerifiedAt: integer("email_verified_at"),
    isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
    isApproved: integer("is_approved", { mode: "boolean" }).notNull().default(false),
    passwordChangedAt: integer("password_changed_at").notNull(),
    /** `service` rows are service accounts (see service_accounts): no password, never a login. */
    kind: text("kind", { enum: ["human", "service"] }).notNull().default("human"),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull(),
  },
  (table) => [uniqueIndex("users_email_unique").on(table.email), index("users_created_at_idx").on(table.createdAt, table.id)],
);

/** A login: one refresh-token family with an idle timeout and an absolute lifetime. */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    lastUsedAt: integer("last_used_at").notNull(),
    /** Absolute end (SESSION_MAX_AGE after login); refresh never extends it. */
    expiresAt: integer("expires_at").notNull(),
    endedAt: integer("ended_at"),
    endReason: text("end_reason"),
    userAgent: text("user_agent"),
    ipHash: text("ip_hash"),
    country: text("country"),
    /** Assurance of the sign-in (docs/mfa.md): "aal1" or "aal2"; refresh never raises it. */
    acr: text("acr", { enum: ["aal1", "aal2"] }).notNull().default("aal1"),
    /** JSON array of RFC 8176 method values used at sign-in, e.g. ["pwd","otp","mfa"]. */
    amr: text("amr").notNull().default('["pwd"]'),
    /** When the user authenticated (epoch ms); refresh keeps it. */
    authTime: integer("auth_time"),
    /** The latest second-factor proof (sign-in or step-up); aal2 lasts MFA_STEP_UP_WINDOW from it. */
    mfaVerifiedAt: integer("mfa_verified_at"),
    /** The methods of that proof, e.g. ["otp"]: they join `amr` while the step-up is live. */
    mfaMethods: text("mfa_methods"),
  },
  (table) => [index("sessions_user_idx").on(table.userId, table.endedAt)],
);

/** Refresh tokens, stored only as SHA-256 hashes; `usedAt` marks a rotated-out token. */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (table) => [uniqueIndex("refresh_tokens_hash_unique").on(table.tokenHash), index("refresh_tokens_session_idx").on(table.sessionId)],
);

/** Single-use emailed tokens (verification, password reset), stored hashed. */
export const emailTokens = sqliteTable(
  "email_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: ["verify_email", "password_reset"] }).notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (table) => [uniqueIndex("email_tokens_hash_unique").on(table.tokenHash), index("email_tokens_user_idx").on(table.userId, table.purpose)],
);

export const roles = sqliteTable(
  "roles",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    isSystem: integer("is_system", { mode: "boolean" }).notNull().default(false),
    /** AI policy: tokens per UTC day (null: unlimited, 0: no AI). */
    aiDailyTokenLimit: integer("ai_daily_token_limit"),
    /** AI policy: cost per UTC month in micro-dollars (null: unlimited). */
    aiMonthlyCostLimitMicroUsd: integer("ai_monthly_cost_limit_micro_usd"),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull(),
  },
  (table) => [uniqueIndex("roles_name_unique").on(sql`lower(${table.name})`)],
);

export const permissions = sqliteTable(
  "permissions",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    /** Catalog permissions come from code and cannot be deleted. */
    isSystem: integer("is_system", { mode: "boolean" }).notNull().default(false),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("permissions_name_unique").on(sql`lower(${table.name})`)],
);

export const userRoles = sqliteTable(
  "user_roles",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    roleId: text("role_id")
      .notNull()
      .references(() => roles.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.roleId] }), index("user_roles_role_idx").on(table.roleId)],
);

export const rolePermissions = sqliteTable(
  "role_permissions",
  {
    roleId: text("role_id")
      .notNull()
      .references(() => roles.id, { onDelete: "cascade" }),
    permissionId: text("permission_id")
      .notNull()
      .references(() => permissions.id, { onDelete: "cascade" }),
  },
  (table) => [primaryKey({ columns: [table.roleId, table.permissionId] }), index("role_permissions_permission_idx").on(table.permissionId)],
);

/**
 * Append-only security events. `seq` orders the hash chain: each row's `hash` covers its own
 * content and the previous row's hash, so an edit anywhere in history breaks verification.
 * Rows are written unsealed (`prev_hash` and `hash` null) in the batch of the change they record;
 * the single sealer (src/durable-objects/audit-sealer.ts) fills both in, in `seq` order, shortly after.
 */
export const auditLogs = sqliteTable(
  "audit_logs",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    createdAt: createdAt(),
    action: text("action").notNull(),
    actorUserId: text("actor_user_id"),
    actorIp: text("actor_ip"),
    actorUserAgent: text("actor_user_agent"),
    requestId: text("request_id"),
    sessionId: text("session_id"),
    targetType: text("target_type"),
    targetId: text("target_id"),
    /** JSON: before/after of the change, never secrets. */
    changes: text("changes"),
    /** Null until sealed. */
    prevHash: text("prev_hash"),
    /** Null until sealed. */
    hash: text("hash"),
  },
  (table) => [
    uniqueIndex("audit_logs_id_unique").on(table.id),
    index("audit_logs_actor_idx").on(table.actorUserId, table.seq),
    index("audit_logs_target_idx").on(table.targetId, table.seq),
    index("audit_logs_action_idx").on(table.action, table.seq),
    // The sealer's work queue: only unsealed rows are in it, so it stays tiny.
    index("audit_logs_unsealed_idx").on(table.seq).where(sql`${table.hash} is null`),
  ],
);

/** Messages kept by MAIL_TRANSPORT=capture (development and tests): the dev mailbox. */
export const capturedMails = sqliteTable(
  "captured_mails",
  {
    id: text("id").primaryKey(),
    toAddress: text("to_address").notNull(),
    subject: text("subject").notNull(),
    textBody: text("text_body").notNull(),
    createdAt: createdAt(),
  },
  (table) => [index("captured_mails_to_idx").on(table.toAddress, table.createdAt)],
);

/** Metadata of objects stored in R2 under `files/<owner id>/<file id>`. */
export const files = sqliteTable(
  "files",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    contentType: text("content_type").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256").notNull(),
    category: text("category"),
    r2Key: text("r2_key").notNull(),
    createdAt: createdAt(),
  },
  (table) => [index("files_owner_idx").on(table.ownerId, table.createdAt, table.id), uniqueIndex("files_r2_key_unique").on(table.r2Key)],
);

/*
 * AI gateway (issue 11). Role AI policy lives on `roles` (ai_daily_token_limit,
 * ai_monthly_cost_limit_micro_usd); usage rows are written after each call; documents and their
 * chunks (the local vector store) belong to one owner and cascade with the user and the file.
 */

/** One row per AI call: what was used, what it cost (integer micro-dollars), how it went. */
export const aiUsage = sqliteTable(
  "ai_usage",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    /** The role whose policy set the budget (the most generous of the user's roles). */
    role: text("role"),
    model: text("model").notNull(),
    endpoint: text("endpoint").notNull(),
    inputTokens: integer("input_tokens").notNull(),
    outputTokens: integer("output_tokens").notNull(),
    costMicroUsd: integer("cost_micro_usd").notNull(),
    latencyMs: integer("latency_ms").notNull(),
    ttfbMs: integer("ttfb_ms"),
    outcome: text("outcome", { enum: ["ok", "error", "aborted", "blocked", "refused"] }).notNull(),
    errorCode: text("error_code"),
    requestId: text("request_id"),
    /** Only with AI_LOG_CONTENT=true. */
    prompt: text("prompt"),
    completion: text("completion"),
    createdAt: createdAt(),
  },
  (table) => [
    index("ai_usage_created_idx").on(table.createdAt),
    index("ai_usage_user_created_idx").on(table.userId, table.createdAt),
    index("ai_usage_model_created_idx").on(table.model, table.createdAt),
  ],
);

/** An indexed upload: extraction, chunking and embedding run in the background (ai.queue.ts). */
export const aiDocuments = sqliteTable(
  "ai_documents",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    fileId: text("file_id")
      .notNull()
      .references(() => files.id, { onDelete: "cascade" }),
    status: text("status", { enum: ["queued", "indexing", "ready", "failed"] }).notNull(),
    failureReason: text("failure_reason"),
    chunkCount: integer("chunk_count").notNull().default(0),
    attempts: integer("attempts").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull(),
  },
  (table) => [index("ai_documents_owner_idx").on(table.ownerId, table.createdAt, table.id), uniqueIndex("ai_documents_file_unique").on(table.fileId)],
);

/** Passages of documents; `embedding` is filled by the local (D1) vector store only. */
export const aiChunks = sqliteTable(
  "ai_chunks",
  {
    /** `<document id>:<chunk number>`, also the Vectorize vector id. */
    id: text("id").primaryKey(),
    documentId: text("document_id")
      .notNull()
      .references(() => aiDocuments.id, { onDelete: "cascade" }),
    ownerId: text("owner_id").notNull(),
    chunk: integer("chunk").notNull(),
    text: text("text").notNull(),
    /** The d1 store's vector: int8-quantised components, base64 (D1 returns blobs as number arrays, slow to scan); null with Vectorize. */
    embedding: text("embedding"),
  },
  (table) => [index("ai_chunks_owner_idx").on(table.ownerId, table.documentId), index("ai_chunks_document_idx").on(table.documentId, table.chunk)],
);

/*
 * Integration surface (issue 12): service accounts and API keys.
 */

/**
 * Service accounts: non-human principals. Each is a `users` row of kind `service` (so roles,
 * audit actors and ownership work as for people) plus this row with its name and description.
 */
export const serviceAccounts = sqliteTable(
  "service_accounts",
  {
    id: text("id")
      .primaryKey()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    createdBy: text("created_by"),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("service_accounts_name_unique").on(sql`lower(${table.name})`)],
);

/**
 * API keys of users and service accounts, stored only as a keyed hash (HMAC-SHA-256 with
 * API_KEY_SECRET). `scopes` is a JSON array; effective permissions are scopes ∩ the owner's.
 */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The first characters of the key (`eak_` + 8), shown in lists so people can tell keys apart. */
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    scopes: text("scopes").notNull(),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
    /** The key this one replaced by rotation. */
    rotatedFrom: text("rotated_from"),
    lastUsedAt: integer("last_used_at"),
    lastUsedIp: text("last_used_ip"),
  },
  (table) => [uniqueIndex("api_keys_hash_unique").on(table.keyHash), index("api_keys_owner_idx").on(table.ownerId, table.createdAt)],
);

/*
 * Multi-factor authentication and passkeys (issue 13, docs/mfa.md).
 */

/** A user's TOTP authenticator (at most one). The secret is AES-GCM ciphertext (lib/secret-box.ts). */
export const totpFactors = sqliteTable("totp_factors", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  /** `<kid>.<iv>.<ciphertext>`, base64url; the user id is the additional authenticated data. */
  secretCiphertext: text("secret_ciphertext").notNull(),
  /** Null until POST /auth/mfa/totp/confirm proves the app has the secret. */
  confirmedAt: integer("confirmed_at"),
  /** The newest 30-second step a code was accepted for: a code of that step or older is a replay. */
  lastUsedStep: integer("last_used_step"),
  createdAt: createdAt(),
});

/** Single-use recovery codes, SHA-256 hashed (each has 50 random bits; a slow hash adds nothing). */
export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    usedAt: integer("used_at"),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("recovery_codes_user_hash_unique").on(table.userId, table.codeHash)],
);

/** Registered passkeys (WebAuthn credentials). */
export const webauthnCredentials = sqliteTable(
  "webauthn_credentials",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The authenticator's credential id, base64url. */
    credentialId: text("credential_id").notNull(),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    signCount: integer("sign_count").notNull().default(0),
    /** JSON array of transports the browser reported (usb, internal, hybrid, ...). */
    transports: text("transports").notNull().default("[]"),
    /** "singleDevice" (hardware-bound) or "multiDevice" (synced); the backup-eligible flag. */
    deviceType: text("device_type", { enum: ["singleDevice", "multiDevice"] }).notNull(),
    backedUp: integer("backed_up", { mode: "boolean" }).notNull(),
    name: text("name").notNull(),
    createdAt: createdAt(),
    lastUsedAt: integer("last_used_at"),
  },
  (table) => [uniqueIndex("webauthn_credentials_credential_unique").on(table.credentialId), index("webauthn_credentials_user_idx").on(table.userId)],
);

/**
 * Short-lived, single-use MFA state: a login waiting for its second factor (`login`, reached with
 * the mfa_token, stored hashed) and WebAuthn challenges (`passkey_register` bound to a session,
 * `passkey_login` for passwordless sign-in, `step_up` bound to a session).
 */
export const mfaChallenges = sqliteTable(
  "mfa_challenges",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["login", "passkey_register", "passkey_login", "step_up"] }).notNull(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    sessionId: text("session_id").references(() => sessions.id, { onDelete: "cascade" }),
    /** SHA-256 of the mfa_token (login) or of the challenge handle. */
    tokenHash: text("token_hash").notNull(),
    /** The WebAuthn challenge issued for this attempt, base64url; null until one is issued. */
    challenge: text("challenge"),
    /** JSON: the first factor's methods for a login (["pwd"]). */
    amr: text("amr"),
    /**
     * A login's snapshot of the user's password_changed_at when the password was proven: the
     * second step starts a session only if it is unchanged (a reset meanwhile wins).
     */
    passwordChangedAt: integer("password_changed_at"),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (table) => [uniqueIndex("mfa_challenges_token_unique").on(table.tokenHash), index("mfa_challenges_user_idx").on(table.userId)],
);
