-- Record one member's outcome in its chord; a repeat changes nothing (changes = 0).
-- Params: $chord, $idx, $member, $state, $result, $error
INSERT INTO conveyor_chord_results (chord_id, idx, member_id, state, result, error)
VALUES ($chord, $idx, $member, $state, $result, $error)
ON CONFLICT (chord_id, idx) DO NOTHING
