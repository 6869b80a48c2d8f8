/**
 * Every audit action the service records, with what it means: the `action` filter of
 * GET /api/v1/audit-logs accepts exactly these (422 otherwise), the OpenAPI document lists them as
 * an enum, and docs/rbac.md has the same table (a test compares the three). Writing an action that
 * is not here does not typecheck.
 */
export const AUDIT_ACTIONS = {
  "user.registered": "An account was registered",
  "user.email_verified": "An account's email address was verified",
  "user.login_succeeded": "A login started a session",
  "user.login_failed": "A login failed (`changes.reason`: wrong_password, unknown_email, service_account)",
  "user.logout_all": "A user ended all their sessions",
  "user.password_changed": "A user changed their password (other sessions ended)",
  "user.password_reset_requested": "A password reset email was requested",
  "user.password_reset": "A password was reset with an emailed token (all sessions ended)",
  "user.profile_updated": "A user changed their own names",
  "user.created": "An administrator created an account",
  "user.bootstrap_admin_created": "The bootstrap administrator was created by scripts/create-admin.mjs (npm start, or by hand for a deployment)",
  "user.updated": "An administrator changed a user's names or flags",
  "user.deleted": "An administrator deleted an account",
  "user.roles_replaced": "A user's roles were replaced as a whole (PUT /users/{id}/roles)",
  "user.role_added": "One role was given to a user (POST /users/{id}/roles/{role})",
  "user.role_removed": "One role was taken from a user (DELETE /users/{id}/roles/{role})",
  "user.sessions_revoked": "An administrator ended every session of a user",
  "user.unlocked": "An administrator cleared a user's login and password-change lock-outs",
  "session.ended": "A session was ended (logout, by its owner, or by revoking one of its tokens)",
  "session.reuse_detected": "A rotated-out refresh token was presented again; its session was ended",
  "role.created": "A role was created",
  "role.updated": "A role was renamed or described",
  "role.permissions_replaced": "A role's permissions were replaced",
  "role.deleted": "A role was deleted",
  "permission.created": "A custom permission was created",
  "permission.deleted": "A custom permission was deleted",
  "file.uploaded": "A file was uploaded",
  "file.deleted": "A file was deleted",
  "ai.injection_blocked": "An AI input was refused as a suspected prompt injection (`changes`: endpoint, score, categories)",
  "ai.canary_revealed": "An AI completion revealed the system prompt's canary and was withheld",
  "api_key.created": "An API key was created",
  "api_key.rotated": "An API key was replaced by a new one (`changes.new_key_id`)",
  "api_key.revoked": "An API key was revoked (by its owner, an administrator, or by possession via /oauth/revoke)",
  "api_key.used_after_revoke": "A revoked API key was presented (at most once a minute per key and isolate)",
  "service_account.created": "A service account was created",
  "service_account.updated": "A service account's description or active flag changed",
  "service_account.deleted": "A service account was deleted with its keys",
  "mfa.totp_enrolled": "An authenticator app (TOTP) was confirmed and recovery codes issued",
  "mfa.totp_removed": "A user removed their authenticator app",
  "mfa.passkey_added": "A passkey was registered",
  "mfa.passkey_removed": "A passkey was deleted",
  "mfa.recovery_codes_regenerated": "A user replaced all their recovery codes",
  "mfa.recovery_code_used": "A recovery code was used to sign in or step up (`changes.remaining`)",
  "mfa.verify_failed": "A second-factor proof was refused (`changes`: method, context login/step_up/passwordless)",
  "mfa.step_up": "A session proved a second factor again (aal2 for MFA_STEP_UP_WINDOW)",
  "mfa.reset": "An administrator removed every second factor of a user (lost device; the user is emailed)",
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

export const AUDIT_ACTION_NAMES = Object.keys(AUDIT_ACTIONS) as [AuditAction, ...AuditAction[]];
