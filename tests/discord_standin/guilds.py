"""The stand-in's world: guilds, their members, users and DM channels, and the payloads Discord
sends for each.

Membership: a user who runs a command in a guild is a member of it from then on (they could not
have run it otherwise); `add_member` makes one without a command, `remove_member` takes one out.
A user who was removed cannot run commands there until added again. Removing or adding sends
GUILD_MEMBER_REMOVE / GUILD_MEMBER_ADD only to a session that identified with the privileged
GUILD_MEMBERS intent, as Discord does; any bot can still ask `GET /guilds/{id}/members/{user}`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

from tests.discord_standin.base import INTENT_GUILD_MEMBERS, StandInBase, snowflake
from tests.discord_standin.records import Message

PERMISSIONS = "2248473465835073"  # what the bot (and a member) may do where nothing is denied
# Of those, the ones Discord applies to interaction responses and follow-ups (its change log,
# "Calculated Permissions in Interaction Payloads": "the permissions that can be used in interaction
# responses (currently ATTACH_FILES, EMBED_LINKS, MENTION_EVERYONE, and USE_EXTERNAL_EMOJIS)").
# Send Messages and View Channel are not among them: an interaction is answered on its own webhook.
EMBED_LINKS, ATTACH_FILES = 1 << 14, 1 << 15
# Discord's rules for a user's names: a username is 2-32 of a-z, 0-9, "_" and "." (never ".."); a
# display name (global_name) is 1-32 characters of almost anything, markdown characters included.
USERNAME = re.compile(r"[a-z0-9_.]{2,32}")
GLOBAL_NAME_MAX = 32


class GuildsMixin(StandInBase):
    async def add_member(self, guild_id: int, user_id: int) -> None:
        """The user joins the guild (GUILD_MEMBER_ADD for a session with the members intent)."""
        self.departed.setdefault(guild_id, set()).discard(user_id)
        if user_id in self.members.setdefault(guild_id, set()):
            return
        self.members[guild_id].add(user_id)
        if self.identified_intents & INTENT_GUILD_MEMBERS:
            await self._dispatch("GUILD_MEMBER_ADD", {**self._member(user_id), "guild_id": str(guild_id)})

    async def remove_member(self, guild_id: int, user_id: int) -> None:
        """The user leaves (or is kicked from) the guild."""
        self.members.setdefault(guild_id, set()).discard(user_id)
        self.departed.setdefault(guild_id, set()).add(user_id)
        if self.identified_intents & INTENT_GUILD_MEMBERS:
            await self._dispatch("GUILD_MEMBER_REMOVE", {"guild_id": str(guild_id), "user": self._user(user_id)})

    def is_member(self, guild_id: int, user_id: int) -> bool:
        return user_id in self.members.get(guild_id, set())

    def shares_a_guild(self, user_id: int) -> bool:
        """Whether the user is in any guild the bot is in: without that, the bot cannot DM them."""
        return any(self.is_member(guild, user_id) for guild in self.guild_ids)

    def _join_by_command(self, guild_id: int, user_id: int) -> None:
        assert user_id not in self.departed.get(guild_id, set()), (
            f"user {user_id} left guild {guild_id}: they cannot run commands there (add_member first)")
        self.members.setdefault(guild_id, set()).add(user_id)

    def rename(self, user_id: int, *, global_name: str | None = None, username: str | None = None) -> None:
        """The user changes their display name and/or username, within Discord's rules for each."""
        if username is not None:
            assert USERNAME.fullmatch(username) and ".." not in username, f"Discord refuses the username {username!r}"
            self.user_names[user_id] = {**self.user_names.get(user_id, {}), "username": username}
        if global_name is not None:
            assert 1 <= len(global_name) <= GLOBAL_NAME_MAX, f"Discord refuses the display name {global_name!r}"
            self.user_names[user_id] = {**self.user_names.get(user_id, {}), "global_name": global_name}

    def deny_in_channel(self, guild_id: int, permissions: int) -> None:
        """A channel overwrite takes `permissions` (e.g. `ATTACH_FILES`) from the bot in the guild's
        channel: interactions from there carry `app_permissions` without them, and a response,
        edit or follow-up that needs one is 403 50013 "Missing Permissions"."""
        self.denied_in_channel[guild_id] = self.denied_in_channel.get(guild_id, 0) | permissions

    def app_permissions(self, guild_id: int | None) -> int:
        """The bot's permissions where an interaction from `guild_id` (None: a DM) was made. In DMs
        Discord always includes Attach Files and Embed Links."""
        everything = int(PERMISSIONS)
        return everything if guild_id is None else everything & ~self.denied_in_channel.get(guild_id, 0)

    def close_dms(self, user_id: int) -> None:
        """The user's privacy settings refuse DMs from this bot (50007 on every DM)."""
        self.closed_dms.add(user_id)

    def open_dms(self, user_id: int) -> None:
        self.closed_dms.discard(user_id)

    async def wait_for_dm(self, user_id: int, predicate: Callable[[Message], bool], timeout: float = 30) -> Message:
        """The first DM delivered to `user_id` that `predicate` accepts, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.dms.get(user_id, []) if predicate(m)]
            if found:
                return found[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching DM to {user_id} in {timeout}s; DMs: {self.dms.get(user_id, [])}")
            self.dm_delivered.clear()
            try:
                await asyncio.wait_for(self.dm_delivered.wait(), remaining)
            except TimeoutError:
                pass

    def _dm_channel_for(self, user_id: int) -> int:
        for channel, user in self.dm_channels.items():
            if user == user_id:
                return channel
        channel = snowflake()
        self.dm_channels[channel] = user_id
        return channel

    # --- payloads --------------------------------------------------------------------------------

    def _user(self, user_id: int) -> dict[str, Any]:
        return {"id": str(user_id), "username": f"member{user_id % 100000}", "discriminator": "0",
                "global_name": f"Member {user_id % 100000}", "avatar": None, "flags": 0,
                **self.user_names.get(user_id, {})}

    def _member(self, user_id: int, *, with_user: bool = True) -> dict[str, Any]:
        member: dict[str, Any] = {
            "roles": [], "joined_at": "2026-01-01T00:00:00+00:00", "permissions": PERMISSIONS,
            "deaf": False, "mute": False, "flags": 0, "nick": None, "avatar": None, "pending": False,
        }
        if with_user:
            member["user"] = self._user(user_id)
        return member

    @staticmethod
    def _role(role_id: int) -> dict[str, Any]:
        return {"id": str(role_id), "name": f"role{role_id % 1000}", "permissions": "0", "position": 1,
                "color": 0, "hoist": False, "managed": False, "mentionable": True, "flags": 0}

    def _channel(self, guild_id: int, channel_id: int) -> dict[str, Any]:
        return {"id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": "general", "position": 0,
                "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
                "rate_limit_per_user": 0}

    def _interaction_channel(self, guild_id: int) -> dict[str, Any]:
        """The channel an interaction from the guild names (see `move_commands_to`)."""
        kind = self.channel_kinds.get(guild_id, "text")
        # a channel of its own (not the text channel GUILD_CREATE listed), as threads and voice channels are
        offset = ("text", "thread", "forum post", "voice").index(kind)
        channel = self._channel(guild_id, self.channel_ids[guild_id] + offset)
        if kind == "voice":  # a voice channel's text chat: the interaction comes from the voice channel
            return {**channel, "type": 2, "name": "Lounge", "bitrate": 64000, "user_limit": 0, "rtc_region": None}
        if kind in ("thread", "forum post"):  # a thread of a text channel, or a post (a thread) of a forum
            return {**channel, "type": 11, "name": "a thread", "parent_id": str(snowflake()), "owner_id": "1",
                    "message_count": 1, "member_count": 1, "total_message_sent": 1,
                    "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False,
                                        "archive_timestamp": "2026-01-01T00:00:00+00:00"},
                    **({"applied_tags": [], "flags": 0} if kind == "forum post" else {})}
        return channel

    def move_commands_to(self, guild_id: int, kind: str) -> None:
        """Members of the guild run commands from a "thread", a "forum post", a "voice" channel's
        text chat, or a "text" channel (the default): the interaction's `channel` says which."""
        assert kind in ("text", "thread", "forum post", "voice"), kind
        self.channel_kinds[guild_id] = kind

    def _guild(self, guild_id: int) -> dict[str, Any]:
        channel_id = self.channel_ids[guild_id]
        return {
            "id": str(guild_id), "name": f"Guild {guild_id % 1000}", "owner_id": "1", "icon": None,
            "roles": [{"id": str(guild_id), "name": "@everyone", "permissions": PERMISSIONS, "position": 0,
                       "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
            "channels": [self._channel(guild_id, channel_id)], "members": [], "emojis": [], "stickers": [],
            "features": [], "member_count": max(30, len(self.members.get(guild_id, ()))), "large": False,
            "unavailable": False, "threads": [],
            "presences": [], "voice_states": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [], "joined_at": "2026-01-01T00:00:00+00:00", "preferred_locale": "en-US",
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
            "mfa_level": 0, "system_channel_flags": 0, "premium_tier": 0, "nsfw_level": 0,
        }
