-- The audit log is a hash chain (src/lib/audit.ts). These triggers keep it honest inside D1:
-- a row must point at the current head of the chain (so two concurrent writers cannot fork it;
-- the loser's whole batch aborts and is retried), and rows are never updated or deleted.
CREATE TRIGGER `audit_logs_chain_guard` BEFORE INSERT ON `audit_logs`
WHEN NEW.`prev_hash` IS NOT COALESCE(
  (SELECT `hash` FROM `audit_logs` ORDER BY `seq` DESC LIMIT 1),
  '0000000000000000000000000000000000000000000000000000000000000000'
)
BEGIN
  SELECT RAISE(ABORT, 'audit_chain_conflict');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_logs_no_update` BEFORE UPDATE ON `audit_logs`
BEGIN
  SELECT RAISE(ABORT, 'audit_logs is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_logs_no_delete` BEFORE DELETE ON `audit_logs`
BEGIN
  SELECT RAISE(ABORT, 'audit_logs is append-only');
END;
