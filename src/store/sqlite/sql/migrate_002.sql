-- Migration 2: exactly-once effects (enqueue dedup, callbacks, chords, steps, pools, counters).
ALTER TABLE conveyor_jobs ADD COLUMN idem_key TEXT;      -- enqueue dedup key
ALTER TABLE conveyor_jobs ADD COLUMN idem_ttl INTEGER;   -- ms the key stays held after final (NULL: released at final)
ALTER TABLE conveyor_jobs ADD COLUMN callbacks TEXT;     -- JSON Callback[] to enqueue at the first final state
ALTER TABLE conveyor_jobs ADD COLUMN chord TEXT;         -- JSON ChordMember
ALTER TABLE conveyor_jobs ADD COLUMN parent TEXT;        -- JSON ParentInfo of the job whose callback this is
ALTER TABLE conveyor_jobs ADD COLUMN fired INTEGER NOT NULL DEFAULT 0; -- callbacks and chord already fired
-- The latest holder of a key is the one with the highest seq.
CREATE INDEX conveyor_jobs_idem ON conveyor_jobs (idem_key, seq) WHERE idem_key IS NOT NULL;

-- ctx.step results; deleted with their job.
CREATE TABLE conveyor_steps (
  seq         INTEGER PRIMARY KEY,      -- recording order
  job_id      TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  result      TEXT    NOT NULL,         -- JSON
  token       INTEGER NOT NULL,         -- the delivery that recorded it
  recorded_at INTEGER NOT NULL,
  UNIQUE (job_id, name)
);

-- The outcome of each member of a chord, until the job of the chord's callback is deleted.
CREATE TABLE conveyor_chord_results (
  chord_id  TEXT    NOT NULL,           -- the callback's job id
  idx       INTEGER NOT NULL,
  member_id TEXT    NOT NULL,
  state     TEXT    NOT NULL,
  result    TEXT,                       -- JSON, when SUCCESS
  error     TEXT,                       -- JSON ErrorInfo, otherwise
  PRIMARY KEY (chord_id, idx)
) WITHOUT ROWID;

CREATE TABLE conveyor_counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

-- Resource pools: one row per pool (its token counter), one per item.
CREATE TABLE conveyor_pools (
  name TEXT PRIMARY KEY,
  seq  INTEGER NOT NULL DEFAULT 0       -- grows with every acquire and free: tokens and free order
) WITHOUT ROWID;
CREATE TABLE conveyor_pool_items (
  pool       TEXT    NOT NULL,
  item       TEXT    NOT NULL,
  holder     TEXT,                      -- NULL: free
  token      INTEGER,
  expires_at INTEGER,
  freed      INTEGER NOT NULL,          -- pool seq when it was last freed: the free longest go first
  removed    INTEGER NOT NULL DEFAULT 0, -- removed while held: leaves on release
  PRIMARY KEY (pool, item)
) WITHOUT ROWID;
CREATE INDEX conveyor_pool_free ON conveyor_pool_items (pool, freed) WHERE holder IS NULL;
CREATE INDEX conveyor_pool_held ON conveyor_pool_items (expires_at) WHERE holder IS NOT NULL;
