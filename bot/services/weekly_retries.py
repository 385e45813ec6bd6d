"""How long a weekly refresh that Spotify holds back (down, or a long Retry-After) is tried again,
and, once it is not, why: kept apart from running the refresh (`weekly_refresh`) so the rule is
read in one place and the DM saying why it stopped (`bot.presenters`) reads the same record.

The rule: a try cut off by Spotify is tried again RETRY_DELAY later (or once the Retry-After is
over) for RETRY_WINDOW after the week's first try began, not after the weekly time, so a refresh
that starts late (the bot was down past the weekly time) gets its retries as one on time does;
never at or past the next weekly time, which is next week's refresh (`RetryWindow`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

RETRY_DELAY = timedelta(minutes=30)
RETRY_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class RetryWindow:
    """Until when a refresh Spotify holds back is tried again: RETRY_WINDOW after its week's first try
    began (`since`), so one run late after the bot was down still gets its retries, but never at or
    past its next weekly time (`next_week`), which is the next week's refresh."""

    since: datetime
    next_week: datetime

    @property
    def ends(self) -> datetime:
        return min(self.since + RETRY_WINDOW, self.next_week)

    def allows(self, retry_at: datetime) -> bool:
        return retry_at <= self.since + RETRY_WINDOW and retry_at < self.next_week


@dataclass(frozen=True)
class RetriesOver:
    """Why a refresh Spotify held back is not tried again this week: its tries ran from `since` to
    `last_try`, and the next would have been at `retry_at`, past `window_ends` (RETRY_WINDOW after
    `since`, or the next weekly time if sooner). `asked_to_wait`: that was Spotify's Retry-After
    asking for longer than RETRY_DELAY, not the tries running out."""

    since: datetime
    last_try: datetime
    retry_at: datetime
    window_ends: datetime
    asked_to_wait: bool

    @property
    def tried_once(self) -> bool:
        return self.last_try - self.since < RETRY_DELAY
