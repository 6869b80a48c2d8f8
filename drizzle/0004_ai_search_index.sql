-- AI gateway (issue 11): the local store's full-text index over ai_chunks (external content,
-- kept in step by triggers; cascaded deletes of documents fire them too), and the seeded roles'
-- AI policy: `user` 100,000 tokens a day, `guest` none. Other roles stay unlimited (null).
CREATE VIRTUAL TABLE `ai_chunks_fts` USING fts5(`text`, content='ai_chunks', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER `ai_chunks_fts_insert` AFTER INSERT ON `ai_chunks` BEGIN
  INSERT INTO `ai_chunks_fts` (`rowid`, `text`) VALUES (new.`rowid`, new.`text`);
END;
--> statement-breakpoint
CREATE TRIGGER `ai_chunks_fts_delete` AFTER DELETE ON `ai_chunks` BEGIN
  INSERT INTO `ai_chunks_fts` (`ai_chunks_fts`, `rowid`, `text`) VALUES ('delete', old.`rowid`, old.`text`);
END;
--> statement-breakpoint
CREATE TRIGGER `ai_chunks_fts_update` AFTER UPDATE OF `text` ON `ai_chunks` BEGIN
  INSERT INTO `ai_chunks_fts` (`ai_chunks_fts`, `rowid`, `text`) VALUES ('delete', old.`rowid`, old.`text`);
  INSERT INTO `ai_chunks_fts` (`rowid`, `text`) VALUES (new.`rowid`, new.`text`);
END;
--> statement-breakpoint
UPDATE `roles` SET `ai_daily_token_limit` = 100000 WHERE `name` = 'user' AND `is_system` = 1;
--> statement-breakpoint
UPDATE `roles` SET `ai_daily_token_limit` = 0, `ai_monthly_cost_limit_micro_usd` = 0 WHERE `name` = 'guest' AND `is_system` = 1;
