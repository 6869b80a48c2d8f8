import type { Metrics } from "./metrics.schemas";

const DAY_MS = 86_400_000;

interface MetricsRow {
  users_total: number;
  users_active: number;
  users_unverified: number;
  users_unapproved: number;
  sessions_live: number;
  sessions_new: number;
  logins_succeeded: number;
  logins_failed: number;
  reuse: number;
  resets: number;
  files_count: number;
  files_bytes: number;
}

/*
 * One read of aggregate counts. Each sub-select uses an index (users_created_at_idx,
 * sessions_user_idx, audit_logs_action_idx, files_owner_idx) or scans a small table; the audit
 * counts are bounded to the last 24 hours.
 */
const METRICS_SQL = `
select
  (select count(*) from users) as users_total,
  (select count(*) from users where is_active = 1) as users_active,
  (select count(*) from users where email_verified_at is null) as users_unverified,
  (select count(*) from users where is_approved = 0) as users_unapproved,
  (select count(*) from sessions where ended_at is null and expires_at > ?1) as sessions_live,
  (select count(*) from sessions where created_at > ?2) as sessions_new,
  (select count(*) from audit_logs where action = 'user.login_succeeded' and created_at > ?2) as logins_succeeded,
  (select count(*) from audit_logs where action = 'user.login_failed' and created_at > ?2) as logins_failed,
  (select count(*) from audit_logs where action = 'session.reuse_detected' and created_at > ?2) as reuse,
  (select count(*) from audit_logs where action = 'user.password_reset' and created_at > ?2) as resets,
  (select count(*) from files) as files_count,
  (select coalesce(sum(size), 0) from files) as files_bytes`;

/**
 * Service-level counters for dashboards and alerts (e.g. a spike of failed logins or of refresh
 * token reuse). Request rates and latencies come from Workers Logs / observability instead.
 */
export async function collectMetrics(db: D1Database, version: string, now = Date.now()): Promise<Metrics> {
  const row = await db.prepare(METRICS_SQL).bind(now, now - DAY_MS).first<MetricsRow>();
  if (!row) throw new Error("metrics query returned no row");
  return {
    version,
    generated_at: new Date(now).toISOString(),
    users: {
      total: row.users_total,
      active: row.users_active,
      disabled: row.users_total - row.users_active,
      unverified: row.users_unverified,
      awaiting_approval: row.users_unapproved,
    },
    sessions: { live: row.sessions_live, started_last_24h: row.sessions_new },
    security_events_last_24h: {
      logins_succeeded: row.logins_succeeded,
      logins_failed: row.logins_failed,
      refresh_token_reuse: row.reuse,
      password_resets: row.resets,
    },
    files: { count: row.files_count, bytes: row.files_bytes },
  };
}
