-- Migration 3: operations (progress, delivery history, the worker registry, schedule ticks).
ALTER TABLE conveyor_jobs ADD COLUMN progress TEXT;  -- JSON JobProgress of the current (or last) delivery
ALTER TABLE conveyor_jobs ADD COLUMN history TEXT;   -- JSON DeliveryRecord[] (last 50); NULL: none
                                                     -- (the common path, one delivery, writes neither)

-- Worker registrations, refreshed by their heartbeats; listed until expires_at.
CREATE TABLE conveyor_workers (
  id         TEXT    PRIMARY KEY,
  info       TEXT    NOT NULL,          -- JSON WorkerInfo
  expires_at INTEGER NOT NULL           -- epoch ms: last heartbeat + its ttl
) WITHOUT ROWID;

-- The last tick each schedule fired (beat), so two beats never fire one tick twice.
CREATE TABLE conveyor_schedule_ticks (
  schedule TEXT    PRIMARY KEY,
  tick     INTEGER NOT NULL             -- epoch ms
) WITHOUT ROWID;
