-- The recorded outcomes of a chord, in member order.
-- Params: $chord
SELECT idx, member_id, state, result, error FROM conveyor_chord_results WHERE chord_id = $chord ORDER BY idx
