-- Forget a chord's outcomes once its callback is enqueued.
-- Params: $chord
DELETE FROM conveyor_chord_results WHERE chord_id = $chord
