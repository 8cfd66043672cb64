-- Migration 1: the schema of the first PostgreSQL release. Every name is qualified by the store's
-- schema (`{schema}`, replaced with its quoted name when the file is applied), so the store never
-- depends on a connection's search_path — a caller's own transaction included.
-- Times are epoch ms (bigint) on the database's clock; JSON is kept as text, exactly as sent
-- (jsonb would reorder keys and renumber a result's floats).

CREATE TABLE {schema}.jobs (
  seq              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- FIFO order within equal priority and run time
  id               text    NOT NULL UNIQUE,
  task             text    NOT NULL,
  queue            text    NOT NULL,
  state            text    NOT NULL CHECK (state IN ('PENDING', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED')),
  args             text    NOT NULL,          -- JSON array
  priority         integer NOT NULL,
  run_at           bigint  NOT NULL,          -- not before
  expires_at       bigint,                    -- not after (else REVOKED)
  enqueued_at      bigint  NOT NULL,
  started_at       bigint,
  finished_at      bigint,
  attempt          integer NOT NULL DEFAULT 1,
  deliveries       integer NOT NULL DEFAULT 0, -- of the current attempt
  max_deliveries   integer NOT NULL,
  token            bigint  NOT NULL DEFAULT 0, -- fencing token, +1 per delivery
  worker           text,
  lease_expires_at bigint,
  terminate        boolean NOT NULL DEFAULT false, -- revoked with terminate: abort the running handler
  result           text,                      -- JSON
  error            text,                      -- JSON ErrorInfo
  keep_until       bigint,                    -- delete the row after (result TTL)
  idem_key         text,                      -- enqueue dedup key
  idem_ttl         bigint,                    -- ms the key stays held after final (NULL: released at final)
  callbacks        text,                      -- JSON Callback[] to enqueue at the first final state
  chord            text,                      -- JSON ChordMember
  parent           text,                      -- JSON ParentInfo of the job whose callback this is
  fired            boolean NOT NULL DEFAULT false, -- callbacks and chord already fired
  followers        text,                      -- JSON { callbacks, chords } left by deduplicated sends
  progress         text,                      -- JSON JobProgress of the current (or last) delivery
  history          text                       -- JSON DeliveryRecord[] (the last 50); NULL: none
);
-- Partial indexes keep each hot query on the rows it needs: `ready` holds only waiting jobs,
-- `leased` only running ones; finished rows, however many, are in neither.
CREATE INDEX jobs_ready ON {schema}.jobs (queue, priority DESC, run_at, seq) WHERE state IN ('PENDING', 'RETRY');
CREATE INDEX jobs_leased ON {schema}.jobs (lease_expires_at) WHERE state = 'STARTED';
CREATE INDEX jobs_kept ON {schema}.jobs (keep_until) WHERE keep_until IS NOT NULL;
CREATE INDEX jobs_failed ON {schema}.jobs (seq) WHERE state = 'FAILURE';
-- The latest holder of a key is the one with the highest seq.
CREATE INDEX jobs_idem ON {schema}.jobs (idem_key, seq) WHERE idem_key IS NOT NULL;

-- ctx.step results; deleted with their job.
CREATE TABLE {schema}.steps (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- recording order
  job_id      text   NOT NULL,
  name        text   NOT NULL,
  result      text   NOT NULL,                -- JSON
  token       bigint NOT NULL,                -- the delivery that recorded it
  recorded_at bigint NOT NULL,
  UNIQUE (job_id, name)
);

-- The outcome of each member of a chord, until the job of the chord's callback is deleted.
CREATE TABLE {schema}.chord_results (
  chord_id  text    NOT NULL,                 -- the callback's job id
  idx       integer NOT NULL,
  member_id text    NOT NULL,
  state     text    NOT NULL,
  result    text,                             -- JSON, when SUCCESS
  error     text,                             -- JSON ErrorInfo, otherwise
  PRIMARY KEY (chord_id, idx)
);

-- The exactly-once counters (COUNTERS in store.ts).
CREATE TABLE {schema}.counters (
  name  text   PRIMARY KEY,
  value bigint NOT NULL
);

-- Resource pools: one row per pool (its token counter), one per item.
CREATE TABLE {schema}.pools (
  name text   PRIMARY KEY,
  seq  bigint NOT NULL DEFAULT 0              -- grows with every acquire and free: tokens and free order
);
CREATE TABLE {schema}.pool_items (
  pool       text    NOT NULL,
  item       text    NOT NULL,
  holder     text,                            -- NULL: free
  token      bigint,
  expires_at bigint,
  freed      bigint  NOT NULL,                -- pool seq when it was last freed: the free longest go first
  removed    boolean NOT NULL DEFAULT false,  -- removed while held: leaves on release
  PRIMARY KEY (pool, item)
);
CREATE INDEX pool_items_free ON {schema}.pool_items (pool, freed) WHERE holder IS NULL;
CREATE INDEX pool_items_held ON {schema}.pool_items (expires_at) WHERE holder IS NOT NULL;

-- Worker registrations, refreshed by their heartbeats; listed until expires_at.
CREATE TABLE {schema}.workers (
  id         text   PRIMARY KEY,
  info       text   NOT NULL,                 -- JSON WorkerInfo
  expires_at bigint NOT NULL                  -- last heartbeat + its ttl
);

-- The last tick each schedule fired (beat), so two beats never fire one tick twice.
CREATE TABLE {schema}.schedule_ticks (
  schedule text   PRIMARY KEY,
  tick     bigint NOT NULL
);
