-- Migration 4: followers — what deduplicated sends left to follow a job (their chord places,
-- their chains' next steps), fired at its next final state.
ALTER TABLE conveyor_jobs ADD COLUMN followers TEXT;  -- JSON { callbacks: Callback[], chords: ChordMember[] }; NULL: none
