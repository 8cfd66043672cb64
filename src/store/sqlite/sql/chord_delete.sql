-- Forget a chord's outcomes: once its callback is enqueued, or, when a member failed, once the
-- callback is retried with its members' results.
-- Params: $chord
DELETE FROM conveyor_chord_results WHERE chord_id = $chord
