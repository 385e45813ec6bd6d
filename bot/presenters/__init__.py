"""Turning service results, and failures, into Discord messages that respect Discord's limits.

Everything shown to members passes through here, one module per concern: `sort_reports` (/sort's
progress and reply, the weekly summary), `genres` (the taxonomy, for /genres), `leaderboards`
(genre mixes and top fans), `account` (/link, /status and the weekly schedule) and `errors`
(`error_message`, the one map from an expected failure to the reply a member gets). `limits`
holds Discord's limits and what the others share to respect them: text from outside (genre names
from a model's taxonomy, Spotify display names) is escaped so it can neither format nor ping, and
long lists are cut at whole lines with a "…and N more" note, never mid-link.

The cogs and the command tree use the names re-exported here (`presenters.sort_embed(...)`).
"""

from __future__ import annotations

from bot.presenters.account import (
    link_failed_reply,
    link_prompt,
    linked_dm,
    linked_reply,
    refresh_failures_text,
    refresh_stopped_text,
    schedule_text,
    sources_text,
    status_embed,
)
from bot.presenters.errors import (
    MISSING_PERMISSIONS,
    error_message,
    missing_permissions_message,
    missing_reply_permissions,
    refresh_failed_message,
    unexpected_error_message,
)
from bot.presenters.genres import family_embed, genres_embed
from bot.presenters.leaderboards import mix_embed, top_members_embed
from bot.presenters.limits import CHART_NAME, chart_file, chart_files
from bot.presenters.sort_reports import (
    LATE_RESULT_NOTE,
    NOT_SHOWN_NOTE,
    SORT_STOPPED_TEXT,
    progress_text,
    result_elsewhere_text,
    sort_embed,
    weekly_embed,
)

__all__ = [
    "CHART_NAME",
    "LATE_RESULT_NOTE",
    "MISSING_PERMISSIONS",
    "NOT_SHOWN_NOTE",
    "SORT_STOPPED_TEXT",
    "chart_file",
    "chart_files",
    "error_message",
    "family_embed",
    "genres_embed",
    "link_failed_reply",
    "link_prompt",
    "linked_dm",
    "linked_reply",
    "missing_permissions_message",
    "missing_reply_permissions",
    "mix_embed",
    "progress_text",
    "refresh_failed_message",
    "refresh_failures_text",
    "refresh_stopped_text",
    "result_elsewhere_text",
    "schedule_text",
    "sort_embed",
    "sources_text",
    "status_embed",
    "top_members_embed",
    "unexpected_error_message",
    "weekly_embed",
]
