-- Issue: a weekly refresh run late (the bot was down for more than a day after its weekly time)
-- got no retries when Spotify failed, because the retry window counted from the weekly time.
--
-- When the week's first try of a refresh that Spotify held back began: its retries count from
-- here. A value older than the schedule's latest weekly time is last week's and ignored.
ALTER TABLE schedules ADD COLUMN retrying_since REAL;
