-- Issue 11 item 6 (ADR 0031): when each phone last reached the relay (a refreshed session),
-- and when a revoked phone reported that it wiped its local data.
ALTER TABLE devices ADD COLUMN last_seen_at INTEGER;
ALTER TABLE devices ADD COLUMN wiped_at INTEGER;
