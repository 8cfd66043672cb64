-- Migration 1: the jobs table.
-- One row per job, from enqueue until its result TTL passes. Partial indexes keep each hot
-- query on the rows it needs: `ready` holds only waiting jobs, `leased` only running ones.
CREATE TABLE conveyor_jobs (
  seq              INTEGER PRIMARY KEY,       -- FIFO order within equal priority and run time
  id               TEXT    NOT NULL UNIQUE,
  task             TEXT    NOT NULL,
  queue            TEXT    NOT NULL,
  state            TEXT    NOT NULL,          -- one of JOB_STATES
  args             TEXT    NOT NULL,          -- JSON array
  priority         INTEGER NOT NULL,
  run_at           INTEGER NOT NULL,          -- epoch ms: not before
  expires_at       INTEGER,                   -- epoch ms: not after (else REVOKED)
  enqueued_at      INTEGER NOT NULL,
  started_at       INTEGER,
  finished_at      INTEGER,
  attempt          INTEGER NOT NULL DEFAULT 1,
  deliveries       INTEGER NOT NULL DEFAULT 0, -- of the current attempt
  max_deliveries   INTEGER NOT NULL,
  token            INTEGER NOT NULL DEFAULT 0, -- fencing token, +1 per delivery
  worker           TEXT,
  lease_expires_at INTEGER,
  terminate        INTEGER NOT NULL DEFAULT 0, -- revoked with terminate: abort the running handler
  result           TEXT,                      -- JSON
  error            TEXT,                      -- JSON ErrorInfo
  keep_until       INTEGER                    -- epoch ms: delete the row after (result TTL)
);
CREATE INDEX conveyor_jobs_ready ON conveyor_jobs (queue, priority DESC, run_at, seq) WHERE state IN ('PENDING', 'RETRY');
CREATE INDEX conveyor_jobs_leased ON conveyor_jobs (lease_expires_at) WHERE state = 'STARTED';
CREATE INDEX conveyor_jobs_kept ON conveyor_jobs (keep_until) WHERE keep_until IS NOT NULL;
-- The dead-letter view. No index covers every state: each state change would move its entry,
-- about a page write per transition; stats and listings of other states scan instead.
CREATE INDEX conveyor_jobs_failed ON conveyor_jobs (seq) WHERE state = 'FAILURE';
