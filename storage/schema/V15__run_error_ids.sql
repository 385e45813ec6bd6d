-- Issue: a sort or weekly refresh a bug ended gave the member an error id, and the log had it beside
-- the traceback, but the run kept no error id: an operator looking at the member's failed run (in
-- /status or the run history) could not find its traceback.
--
-- The error id a failed run's traceback was logged under; NULL for every other run (and the runs
-- recorded before this version).
ALTER TABLE runs ADD COLUMN error_id TEXT;
