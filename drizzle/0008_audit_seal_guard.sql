-- The audit log is a hash chain sealed by ONE writer (src/durable-objects/audit-sealer.ts).
-- Writers insert rows unsealed (prev_hash and hash null) in the batch of the change they record, so
-- no audited write ever waits for, or fails because of, another one. The sealer then fills in
-- prev_hash and hash in seq order. These triggers keep that honest inside D1 (0007 rebuilt the table,
-- which dropped the triggers of 0001):
-- * a row is inserted unsealed;
-- * the only update ever allowed is sealing: an unsealed row gets prev_hash and hash, nothing else
--   changes, and prev_hash must be the hash of the row just before it (which must be sealed), or the
--   genesis hash for the first row; so the chain can neither fork nor skip a row;
-- * rows are never deleted.
CREATE TRIGGER `audit_logs_insert_unsealed` BEFORE INSERT ON `audit_logs`
WHEN NEW.`prev_hash` IS NOT NULL OR NEW.`hash` IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'audit rows are inserted unsealed');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_logs_seal_only` BEFORE UPDATE ON `audit_logs`
WHEN OLD.`hash` IS NOT NULL
  OR NEW.`hash` IS NULL
  OR NEW.`seq` IS NOT OLD.`seq`
  OR NEW.`id` IS NOT OLD.`id`
  OR NEW.`created_at` IS NOT OLD.`created_at`
  OR NEW.`action` IS NOT OLD.`action`
  OR NEW.`actor_user_id` IS NOT OLD.`actor_user_id`
  OR NEW.`actor_ip` IS NOT OLD.`actor_ip`
  OR NEW.`actor_user_agent` IS NOT OLD.`actor_user_agent`
  OR NEW.`request_id` IS NOT OLD.`request_id`
  OR NEW.`session_id` IS NOT OLD.`session_id`
  OR NEW.`target_type` IS NOT OLD.`target_type`
  OR NEW.`target_id` IS NOT OLD.`target_id`
  OR NEW.`changes` IS NOT OLD.`changes`
  OR NEW.`prev_hash` IS NOT COALESCE(
    -- '' for an unsealed predecessor: no 64-hex prev_hash can equal it.
    (SELECT COALESCE(`hash`, '') FROM `audit_logs` WHERE `seq` < OLD.`seq` ORDER BY `seq` DESC LIMIT 1),
    '0000000000000000000000000000000000000000000000000000000000000000'
  )
BEGIN
  SELECT RAISE(ABORT, 'audit_logs is append-only; only sealing in seq order may update a row');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_logs_no_delete` BEFORE DELETE ON `audit_logs`
BEGIN
  SELECT RAISE(ABORT, 'audit_logs is append-only');
END;
