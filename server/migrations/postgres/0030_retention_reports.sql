-- Issue 11 item 4 (ADR 0024): each retention run also counts the goal-fulfilment reports
-- whose text it blanked (or which it deleted, where the class says so). Earlier runs: 0.
ALTER TABLE retention_runs ADD COLUMN reports BIGINT NOT NULL DEFAULT 0;
