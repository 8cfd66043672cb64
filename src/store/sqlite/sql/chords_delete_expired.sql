-- Drop the chord outcomes of chords' callbacks whose result TTL has passed (before the jobs themselves).
-- Params: $now
DELETE FROM conveyor_chord_results WHERE chord_id IN
  (SELECT id FROM conveyor_jobs WHERE keep_until IS NOT NULL AND keep_until < $now)
