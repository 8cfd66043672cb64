-- Migration 2: a worker's usual round trip — complete the jobs it ran, lease the next ones from
-- its queue, wake the waiters — as one statement, so one round trip and one implicit transaction
-- instead of four (BEGIN, completions, reserve, COMMIT). It only takes the plain case: every
-- completion fenced by a token that still holds its job, none with callbacks, a chord or
-- followers to fire, and no expired job among the due ones. Anything else writes nothing and
-- answers one row whose id is NULL: the store then runs the same transition in full
-- (postgres-store.ts), where policy (error records, callbacks) is decided in TypeScript.
--
-- p_now: the test clock, or NULL for the database's; p_queue NULL or p_limit 0: reserve nothing;
-- p_channel NULL: notify nobody. Answers the leased jobs in reservation order.

CREATE FUNCTION {schema}.settle_and_take(
  p_now bigint, p_ids text[], p_tokens bigint[], p_results text[], p_ttls bigint[],
  p_worker text, p_lease_ms bigint, p_queue text, p_limit integer, p_channel text
) RETURNS TABLE (
  id text, task text, queue text, args text, attempt integer, deliveries integer, token bigint,
  enqueued_at bigint, parent text, lease_expires_at bigint
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := coalesce(p_now, (extract(epoch from clock_timestamp()) * 1000)::bigint);
  v_due bigint[];
  v_expired boolean := false;
  v_held integer;
BEGIN
  IF p_queue IS NOT NULL AND p_limit > 0 THEN
    SELECT array_agg(d.seq), coalesce(bool_or(d.expires_at < v_now), false) INTO v_due, v_expired
    FROM (SELECT j.seq, j.expires_at FROM {schema}.jobs j
          WHERE j.queue = p_queue AND j.state IN ('PENDING', 'RETRY') AND j.run_at <= v_now
          ORDER BY j.priority DESC, j.run_at, j.seq LIMIT p_limit FOR UPDATE SKIP LOCKED) d;
    IF v_expired THEN
      RETURN QUERY SELECT NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer, NULL::integer, NULL::bigint, NULL::bigint, NULL::text, NULL::bigint;
      RETURN;
    END IF;
  END IF;

  IF cardinality(p_ids) > 0 THEN
    -- Lock the rows first: a revoke, a recovery or a deduplicated send that changed one since is
    -- seen here (the lock re-reads the row), and then nothing is written.
    SELECT count(*) INTO v_held FROM (
      SELECT 1 FROM {schema}.jobs j JOIN unnest(p_ids, p_tokens) AS c(id, token) ON j.id = c.id AND j.token = c.token
      WHERE j.state = 'STARTED' AND j.callbacks IS NULL AND j.chord IS NULL AND j.followers IS NULL
      FOR UPDATE OF j) h;
    IF v_held < cardinality(p_ids) THEN
      RETURN QUERY SELECT NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer, NULL::integer, NULL::bigint, NULL::bigint, NULL::text, NULL::bigint;
      RETURN;
    END IF;
    UPDATE {schema}.jobs j SET state = 'SUCCESS', result = c.result, error = NULL, finished_at = v_now, lease_expires_at = NULL, keep_until = v_now + c.ttl
    FROM unnest(p_ids, p_tokens, p_results, p_ttls) AS c(id, token, result, ttl)
    WHERE j.id = c.id AND j.token = c.token AND j.state = 'STARTED';
  END IF;

  IF p_channel IS NOT NULL THEN
    PERFORM pg_notify(p_channel, '');
  END IF;

  IF v_due IS NOT NULL THEN
    RETURN QUERY
    WITH taken AS (
      UPDATE {schema}.jobs j SET state = 'STARTED', token = j.token + 1, deliveries = j.deliveries + 1, worker = p_worker,
        started_at = v_now, lease_expires_at = v_now + p_lease_ms, terminate = false, progress = NULL
      WHERE j.seq = ANY(v_due)
      RETURNING j.seq, j.id, j.task, j.queue, j.args, j.attempt, j.deliveries, j.token, j.enqueued_at, j.parent, j.priority, j.run_at, j.lease_expires_at)
    SELECT t.id, t.task, t.queue, t.args, t.attempt, t.deliveries, t.token, t.enqueued_at, t.parent, t.lease_expires_at
    FROM taken t ORDER BY t.priority DESC, t.run_at, t.seq;
  END IF;
END
$$;
