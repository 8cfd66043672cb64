-- Keep the followers of a job that is not final yet (JSON, see migrate_004.sql), or clear them (NULL) once fired.
-- Params: $id, $followers
UPDATE conveyor_jobs SET followers = $followers WHERE id = $id
