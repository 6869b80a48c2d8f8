/**
 * The permission catalog: every `resource:action` the code checks, in one place. Catalog
 * permissions are seeded into D1 and cannot be deleted; custom ones can be added through the API.
 */
export const PERMISSIONS = {
  "profile:read": "Read one's own profile and sessions",
  "profile:update": "Update one's own profile names",
  "account:security": "Change one's own password and end one's own sessions",
  "users:read": "List and read any user",
  "users:create": "Create accounts directly",
  "users:update": "Update any user's names and flags (active, approved)",
  "users:delete": "Delete any user and everything they own",
  "roles:read": "List and read roles",
  "roles:write": "Create, change and delete roles",
  "roles:assign": "Replace the roles of a user",
  "permissions:read": "List permissions",
  "permissions:write": "Create and delete custom permissions",
  "audit:read": "Read and verify the audit log",
  "sessions:revoke": "List and end other users' sessions",
  "docs:read": "Read the API documentation when it is not public",
  "metrics:read": "Read service metrics",
  "files:read": "Upload-owner access: list and read one's own files",
  "files:write": "Upload and delete one's own files",
  "files:read_any": "Read any user's files",
  "files:delete_any": "Delete any user's files",
  "ai:use": "Use the AI endpoints within one's quota",
  "ai:manage": "Manage AI quotas and read usage of everyone",
  "tokens:introspect": "Introspect tokens (POST /oauth/introspect); meant for resource servers' API keys",
  "service_accounts:read": "List and read service accounts",
  "service_accounts:write": "Create, disable and delete service accounts",
  "api_keys:manage": "List, create, rotate and revoke the API keys of any user or service account",
  "mfa:reset": "Remove another user's second factors (lost device)",
} as const;

export type Permission = keyof typeof PERMISSIONS;

export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

const SELF_SERVICE: Permission[] = ["profile:read", "profile:update", "account:security"];

/** Seeded roles. System roles cannot be deleted or renamed; their permission sets are the defaults. */
export const SYSTEM_ROLES = {
  admin: { description: "Every permission", permissions: ALL_PERMISSIONS },
  manager: {
    description: "User administration without role or permission administration",
    permissions: [
      ...SELF_SERVICE,
      "users:read",
      "users:create",
      "users:update",
      "users:delete",
      "sessions:revoke",
      "roles:read",
      "permissions:read",
      "audit:read",
      "docs:read",
      "files:read",
      "files:write",
      "ai:use",
    ],
  },
  user: {
    description: "The default for new accounts: own profile, own files, AI use",
    permissions: [...SELF_SERVICE, "files:read", "files:write", "ai:use"],
  },
  guest: {
    description: "Read-only access to one's own data",
    permissions: ["profile:read", "account:security", "files:read"],
  },
} as const satisfies Record<string, { description: string; permissions: readonly Permission[] }>;

export type SystemRole = keyof typeof SYSTEM_ROLES;

export const DEFAULT_ROLE: SystemRole = "user";
