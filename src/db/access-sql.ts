/**
 * The current roles and effective permissions of the user joined as `u`, as two JSON-array
 * columns (`roles`, `permissions`), for the raw single-read lookups of credentials (API keys,
 * refresh tokens): the answer always reflects role changes made a moment ago.
 */
export const USER_ACCESS_COLUMNS = `
  (select json_group_array(r.name) from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = u.id) as roles,
  (select json_group_array(distinct p.name) from user_roles ur
     join role_permissions rp on rp.role_id = ur.role_id
     join permissions p on p.id = rp.permission_id
   where ur.user_id = u.id) as permissions`;
