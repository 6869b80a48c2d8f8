/**
 * The current roles and effective permissions of the user joined as `u`, as two JSON-array
 * columns (`roles`, `permissions`), for the raw single-read lookups of credentials (API keys,
 * refresh tokens): the answer always reflects role changes made a moment ago.
 */
const PERMISSIONS_COLUMN = `
  (select json_group_array(distinct p.name) from user_roles ur
     join role_permissions rp on rp.role_id = ur.role_id
     join permissions p on p.id = rp.permission_id
   where ur.user_id = u.id) as permissions`;

export const USER_ACCESS_COLUMNS = `
  (select json_group_array(r.name) from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = u.id) as roles,${PERMISSIONS_COLUMN}`;

/**
 * Like USER_ACCESS_COLUMNS, for the lookups that build a principal: instead of `roles`, a column
 * `role_rows` of `[name, ai_daily_token_limit, ai_monthly_cost_limit_micro_usd]` per role (read by
 * `parseRoleRows`), so the principal carries the AI policy and the gateway reads no second row.
 * Same subquery, same index: one more pair of columns per role, no extra lookup.
 */
export const PRINCIPAL_ACCESS_COLUMNS = `
  (select json_group_array(json_array(r.name, r.ai_daily_token_limit, r.ai_monthly_cost_limit_micro_usd))
     from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = u.id) as role_rows,${PERMISSIONS_COLUMN}`;
