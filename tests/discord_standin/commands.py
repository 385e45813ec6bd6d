"""Slash commands: what the bot synced, and the INTERACTION_CREATE events a member's command or
keystroke (autocomplete) produces, typed per the synced options as Discord types them."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from aiohttp import web

from tests.discord_standin.base import ACK_DEADLINE_S, json_response, snowflake
from tests.discord_standin.guilds import PERMISSIONS, GuildsMixin
from tests.discord_standin.records import InteractionRecord
from tests.discord_standin.rules import invalid_form_body, sync_problems

_TYPED_KINDS = {3: "string", 4: "integer", 5: "boolean", 10: "number"}
STRING_OPTION_MAX = 6000  # Discord's ceiling for a string option's max_length
_LARGEST_INTEGER = 2 ** 53 - 1  # Discord: integer options take "any integer between -2^53+1 and 2^53-1"


def _number(bound: float) -> str:
    """A bound as a member reads it: 1.0 as 1, 0.25 as 0.25."""
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _typed(kind: int, value: Any) -> Any:
    """`value` as Discord delivers it for an option of type `kind` (a test may give the text a member
    types, e.g. "8" for an integer); ValueError when Discord's client would not send it at all."""
    if isinstance(value, bool) or kind == 5:
        if kind == 5 and isinstance(value, bool):
            return value
        if kind == 5 and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError
    if kind == 3 and isinstance(value, (str, int, float)):
        return str(value)
    if kind == 4 and isinstance(value, (int, str)):
        number = int(value)  # ValueError for "eight" or "8.5"
        if abs(number) > _LARGEST_INTEGER:
            raise ValueError
        return number
    if kind == 4 and isinstance(value, float) and value.is_integer():
        return _typed(kind, int(value))
    if kind == 10 and isinstance(value, (int, float, str)):
        real = float(value)
        if not math.isfinite(real):
            raise ValueError
        return real
    raise ValueError


class CommandsMixin(GuildsMixin):
    def _sync(self, commands: list[dict[str, Any]], guild_id: int | None = None) -> web.Response:
        problems = sync_problems(commands)
        if problems:
            self.violations.extend(text for _, _, text in problems)
            return json_response(invalid_form_body(problems), status=400)
        if (refused := self._off_spec(None)) is not None:
            return refused
        # A bulk overwrite replaces every command of its scope (the application's global ones, or
        # one guild's): a command left out of it is deleted, as on Discord.
        scope = None if guild_id is None else str(guild_id)
        for name in [n for n, c in self.synced_commands.items() if c.get("guild_id") == scope]:
            del self.synced_commands[name]
        out = []
        for command in commands:
            stored = {**command, "id": str(snowflake()), "application_id": str(self.application_id),
                      "version": str(snowflake()), "type": command.get("type", 1)}
            if guild_id is not None:
                stored["guild_id"] = str(guild_id)
            stored.setdefault("options", [])
            stored.setdefault("default_member_permissions", None)
            stored.setdefault("nsfw", False)
            self.synced_commands[command["name"]] = stored
            out.append(stored)
        return json_response(out)

    def _command(self, name: str) -> dict[str, Any]:
        command = self.synced_commands.get(name)
        assert command is not None, f"the bot never synced /{name} (synced: {sorted(self.synced_commands)})"
        return command

    def _check_values(self, command: str, spec: list[dict[str, Any]], values: dict[str, Any],
                      focused: str | None) -> None:
        """Discord's client sends only a value of the option's type, one of its `choices` where it lists
        them ("they are the only valid values for a user to pick"), within `min_value`/`max_value` and
        `min_length`/`max_length` (Discord's application-commands docs), and the API answers 50035 to
        anything else (a string option without `max_length` takes at most 6,000 characters, the
        ceiling of `max_length`): such a value raises before any interaction exists. The focused
        option of an autocomplete interaction is sent as typed so far, unvalidated ("may also include
        empty strings and invalid numbers", the docs' autocomplete section). Options without choices,
        including autocomplete ones (the docs forbid `autocomplete` beside `choices`), may hold any
        text within those lengths."""
        for option in spec:
            name, kind = option["name"], option["type"]
            if name not in values or name == focused or kind not in _TYPED_KINDS:
                continue
            refused = f"Discord refuses /{command} {name}={values[name]!r}"
            try:
                value = _typed(kind, values[name])
            except ValueError:
                raise AssertionError(f"{refused}: not {'an' if kind == 4 else 'a'} {_TYPED_KINDS[kind]}") from None
            if choices := option.get("choices"):
                listed = [choice["value"] for choice in choices]
                assert value in listed, f"{refused}: not one of its choices {listed}"
            if "min_value" in option:
                assert value >= option["min_value"], f"{refused}: below its min_value {_number(option['min_value'])}"
            if "max_value" in option:
                assert value <= option["max_value"], f"{refused}: above its max_value {_number(option['max_value'])}"
            if "min_length" in option:
                assert len(value) >= option["min_length"], (
                    f"{refused}: shorter than its min_length {option['min_length']}")
            if "max_length" in option:
                assert len(value) <= option["max_length"], (
                    f"{refused}: longer than its max_length {option['max_length']}")
            elif kind == 3:  # max_length can be at most 6000, and an option without one takes no more
                assert len(value) <= STRING_OPTION_MAX, (
                    f"{refused}: longer than the {STRING_OPTION_MAX} characters any string option takes")

    def _options(
        self, command: str, spec: list[dict[str, Any]], values: dict[str, Any], focused: str | None,
        resolved: dict[str, dict[str, Any]], guild_id: int | None,
    ) -> list[dict[str, Any]]:
        """The options as Discord sends them, each value typed per the synced option type."""
        known = {o["name"]: o for o in spec}
        unknown = set(values) - set(known)
        assert not unknown, f"/{command} has no option(s) {sorted(unknown)} (it has {sorted(known)})"
        out = []
        for option in spec:
            name, kind = option["name"], option["type"]
            if name not in values:
                assert not option.get("required") or focused is not None, f"/{command}: required option {name!r} missing"
                continue
            value = values[name]
            if name == focused:
                out.append({"name": name, "type": kind, "value": str(value), "focused": True})
                continue
            if kind in _TYPED_KINDS:
                value = _typed(kind, value)  # _check_values refused what this cannot type
            elif kind in (6, 9):  # user / mentionable: a user id
                user = self._user(int(value))
                resolved.setdefault("users", {})[str(value)] = user
                if guild_id:
                    resolved.setdefault("members", {})[str(value)] = self._member(int(value), with_user=False)
                value = str(value)
            elif kind == 7:
                channel = self._channel(guild_id or 0, int(value))
                resolved.setdefault("channels", {})[str(value)] = {**channel, "permissions": PERMISSIONS}
                value = str(value)
            elif kind == 8:
                resolved.setdefault("roles", {})[str(value)] = self._role(int(value))
                value = str(value)
            out.append({"name": name, "type": kind, "value": value})
        return out

    def _interaction_payload(
        self, kind: int, command: str, options: dict[str, Any], user_id: int, guild_id: int | None,
        subcommand: str | None, focused: str | None,
    ) -> tuple[dict[str, Any], InteractionRecord]:
        spec = self._command(command)
        if "guild_id" in spec:
            assert guild_id == int(spec["guild_id"]), (
                f"/{command} was synced to guild {spec['guild_id']} only; it cannot be run in {guild_id or 'a DM'}")
        else:
            # A global command is offered only in its `contexts` (0 a guild, 1 the bot's DM, 2 other
            # private channels; all when absent) and, while `dm_permission` is false, not in DMs
            # (Discord's application-commands docs: both "only for globally-scoped commands").
            contexts = spec.get("contexts")
            place, context = ("a guild", 0) if guild_id else ("a DM", 1)
            assert contexts is None or context in contexts, (
                f"Discord refuses /{command} in {place}: its contexts are {contexts}")
            assert guild_id or spec.get("dm_permission") is not False, (
                f"Discord refuses /{command} in a DM: its dm_permission is false")
        option_specs = spec.get("options", [])
        if subcommand:
            sub = next((o for o in option_specs if o["name"] == subcommand and o["type"] == 1), None)
            assert sub is not None, f"/{command} has no subcommand {subcommand!r}"
            option_specs = sub.get("options", [])
        self._check_values(f"{command} {subcommand}" if subcommand else command, option_specs, options, focused)
        if guild_id:
            self._join_by_command(guild_id, user_id)
        resolved: dict[str, dict[str, Any]] = {}
        if subcommand:
            opts = [{"name": subcommand, "type": 1,
                     "options": self._options(command, option_specs, options, focused, resolved, guild_id)}]
        else:
            opts = self._options(command, option_specs, options, focused, resolved, guild_id)
        interaction_id, token = snowflake(self.clock_offset), f"itok-{snowflake()}"
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": str(self.application_id), "type": kind, "token": token,
            "version": 1, "locale": "en-US", "app_permissions": str(self.app_permissions(guild_id)),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)} if guild_id else {"1": str(user_id)},
            "context": 0 if guild_id else 1, "attachment_size_limit": self.attachment_size_limit,
            "data": {"id": spec["id"], "name": command, "type": 1, "options": opts},
        }
        if resolved:
            payload["data"]["resolved"] = resolved
        if "guild_id" in spec:
            payload["data"]["guild_id"] = spec["guild_id"]
        if guild_id:
            channel = self._interaction_channel(guild_id)
            payload.update({
                "guild_id": str(guild_id), "guild_locale": "en-US", "channel_id": channel["id"],
                "channel": channel,
                "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
                "member": self._member(user_id),
            })
        else:
            dm_channel = self._dm_channel_for(user_id)
            payload.update({"channel_id": str(dm_channel), "user": self._user(user_id),
                            "channel": {"id": str(dm_channel), "type": 1, "recipients": [self._user(user_id)]}})
        label = f"{command} {subcommand}" if subcommand else command
        record = InteractionRecord(interaction_id, token, label, user_id, self.now(), self.token_lifetime_s,
                                   interaction_type=kind, guild_id=guild_id or None)
        if focused is not None:
            record.focused_option_type = next(o["type"] for o in option_specs if o["name"] == focused)
        self.interactions[token] = record
        return payload, record

    async def invoke(
        self, command: str, options: dict[str, Any] | None = None, *, user_id: int,
        guild_id: int | None = ..., subcommand: str | None = None,  # type: ignore[assignment]
    ) -> InteractionRecord:
        """Dispatch a slash command as a member would run it (guild_id None: in a DM); returns its record."""
        guild = self.guild_ids[0] if guild_id is ... else guild_id
        payload, record = self._interaction_payload(2, command, options or {}, user_id, guild, subcommand, None)
        await self._dispatch("INTERACTION_CREATE", payload)
        asyncio.get_running_loop().call_later(ACK_DEADLINE_S, self._check_ack, record)
        return record

    async def autocomplete(
        self, command: str, option: str, value: str, *, user_id: int, options: dict[str, Any] | None = None,
        guild_id: int | None = ..., subcommand: str | None = None,  # type: ignore[assignment]
    ) -> list[dict[str, Any]]:
        """Send an autocomplete interaction (the typed option focused); returns the bot's choices.

        Raises AssertionError when Discord would have refused the bot's answer (the violation is
        recorded too); `autocomplete_record` gives the record for a test that expects a refusal."""
        record = await self.autocomplete_record(command, option, value, user_id=user_id, options=options,
                                                guild_id=guild_id, subcommand=subcommand)
        await record.wait_until(lambda: record.autocomplete_choices is not None or bool(record.rejected), 5)
        assert not record.rejected, f"/{command}: Discord refused the autocomplete answer {record.rejected}"
        return record.autocomplete_choices or []

    async def autocomplete_record(
        self, command: str, option: str, value: str, *, user_id: int, options: dict[str, Any] | None = None,
        guild_id: int | None = ..., subcommand: str | None = None,  # type: ignore[assignment]
    ) -> InteractionRecord:
        """Dispatch an autocomplete interaction and return its record at once."""
        guild = self.guild_ids[0] if guild_id is ... else guild_id
        values = {**(options or {}), option: value}
        payload, record = self._interaction_payload(4, command, values, user_id, guild, subcommand, option)
        await self._dispatch("INTERACTION_CREATE", payload)
        asyncio.get_running_loop().call_later(ACK_DEADLINE_S, self._check_ack, record)
        return record

    def _check_ack(self, record: InteractionRecord) -> None:
        """Discord's 3-second deadline, for a command and an autocomplete alike (the member's client
        shows 'The application did not respond' or 'Loading options failed'). An autocomplete whose
        answer was refused was already a violation: it is not counted twice."""
        if record.acknowledged_at is not None:
            return
        if record.interaction_type == 4:
            if not record.rejected:
                self.violations.append(f"no autocomplete answer within 3s for /{record.command}")
        else:
            self.violations.append(f"no acknowledgement within 3s for /{record.command}")
        record.touch()
