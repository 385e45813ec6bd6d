"""The interaction rules: the one callback within 3 seconds, validated autocomplete answers, and
the interaction token's webhook (edits of @original, follow-ups) that works for 15 minutes."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.discord_standin.base import ACK_DEADLINE_S, StandInBase, error_response, json_response, snowflake
from tests.discord_standin.guilds import ATTACH_FILES, EMBED_LINKS
from tests.discord_standin.records import InteractionRecord, Message
from tests.discord_standin.rules import (
    autocomplete_problems,
    body_has_no_message,
    invalid_form_body,
    is_empty_message,
    message_problems,
    oversized_files,
)

# Which callbacks Discord takes for each interaction type (its docs, "Interaction Callback Type"):
# DEFERRED_UPDATE_MESSAGE (6) and UPDATE_MESSAGE (7) only for component interactions, and an
# autocomplete interaction only an autocomplete result (8): anything else is 400 50035
# "In type: Value must be one of {8}." (Cog-Creators/Red-DiscordBot#6374).
# At most ten files in one message: 400 30015 "Maximum number of attachments in a message reached
# (10)" (discord/discord-api-docs#1486).
ATTACHMENTS_MAX = 10
CALLBACK_TYPES_FOR = {2: frozenset({4, 5, 9}), 4: frozenset({8})}
INTERACTION_NAMES = {2: "an application command", 4: "an autocomplete"}


def message_from(kind: str, body: dict[str, Any], files: list[tuple[str, bytes]], base: Message | None = None) -> Message:
    """A new message, or (with `base`) the state after editing `base` with `body`."""
    if base is None:
        base = Message(kind=kind)
    if files:
        attachments = list(files)
    elif "attachments" in body:
        # attachments the edit keeps are listed by id; an empty list removes them all
        attachments = list(base.attachments) if body["attachments"] else []
    else:
        attachments = list(base.attachments)
    return Message(
        content=body["content"] if "content" in body else base.content,
        embeds=list(body["embeds"] or []) if "embeds" in body else list(base.embeds),
        components=list(body["components"] or []) if "components" in body else list(base.components),
        attachments=attachments,
        flags=int(body["flags"] or 0) if "flags" in body else base.flags,
        allowed_mentions=body["allowed_mentions"] if "allowed_mentions" in body else base.allowed_mentions,
        kind=kind,
        id=base.id or snowflake(),
    )


class InteractionsMixin(StandInBase):
    def _refuse(self, record: InteractionRecord | None, status: int, code: int, message: str,
                violation: str | None = None, body: dict[str, Any] | None = None) -> web.Response:
        """Answer as Discord does, remember the refusal on the record, and the broken rule."""
        if violation is not None:
            self.violations.append(f"/{record.command}: {violation}" if record else violation)
        if record is not None:
            record.rejected.append((status, code))
            record.touch()
        if body is not None:
            return json_response(body, status=status)
        return error_response(status, code, message)

    def _refuse_message(self, record: InteractionRecord | None, body: dict[str, Any],
                        files: list[tuple[str, bytes]], result: Message | None) -> web.Response | None:
        """The message rules: size of each file, Discord's limits, and no empty message.
        `result` is the message as it would stand (None: judge `body` as a new message)."""
        if len(files) > ATTACHMENTS_MAX:
            return self._refuse(record, 400, 30015, "Maximum number of attachments in a message reached (10)",
                                f"{len(files)} attachments in one message (at most {ATTACHMENTS_MAX})")
        too_big = oversized_files(files, self.attachment_size_limit)
        if too_big:
            return self._refuse(record, 413, 40005, "Request entity too large",
                                f"attachment {too_big[0]} over the {self.attachment_size_limit}-byte limit")
        problems = message_problems(body)
        if problems:
            for _, _, text in problems:
                self.violations.append(f"/{record.command}: {text}" if record else text)
            return self._refuse(record, 400, 50035, "Invalid Form Body", body=invalid_form_body(problems))
        if self._lacks_permission(record, body, files):
            return self._refuse(record, 403, 50013, "Missing Permissions")
        empty = is_empty_message(result) if result is not None else body_has_no_message(body, files)
        if empty:
            return self._refuse(record, 400, 50006, "Cannot send an empty message", "empty message")
        return self._off_spec(record)

    def _lacks_permission(self, record: InteractionRecord | None, body: dict[str, Any],
                          files: list[tuple[str, bytes]]) -> bool:
        """Whether the bot, in the channel the interaction came from, lacks Attach Files for a file
        it uploads or Embed Links for embeds it sends (checked now: an overwrite may have changed
        since the interaction). Not a violation: the bot learns of overwrites only from Discord."""
        if record is None or record.guild_id is None:
            return False
        allowed = self.app_permissions(record.guild_id)
        return bool((files and not allowed & ATTACH_FILES) or (body.get("embeds") and not allowed & EMBED_LINKS))

    def _callback(self, token: str, body: dict[str, Any], files: list[tuple[str, bytes]]) -> web.Response:
        record = self.interactions.get(token)
        if record is None:
            return error_response(404, 10062, "Unknown interaction")
        if record.acknowledged_at is not None:
            return self._refuse(record, 400, 40060, "Interaction has already been acknowledged.",
                                "interaction acknowledged twice")
        if self.now() - record.dispatched_at > ACK_DEADLINE_S:
            return self._refuse(record, 404, 10062, "Unknown interaction")  # the violation was recorded at 3 s
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        if kind not in (4, 5, 6, 7, 8, 9):
            return self._refuse(record, 400, 50035, "Invalid Form Body", f"unknown callback type {kind}",
                                invalid_form_body([("type", "BASE_TYPE_CHOICES", f"unknown callback type {kind}")]))
        allowed = CALLBACK_TYPES_FOR[record.interaction_type]
        if kind not in allowed:
            choices = "{" + ", ".join(str(k) for k in sorted(allowed)) + "}"
            return self._refuse(
                record, 400, 50035, "Invalid Form Body",
                f"callback type {kind} answering {INTERACTION_NAMES[record.interaction_type]} interaction",
                invalid_form_body([("type", "BASE_TYPE_CHOICES", f"Value must be one of {choices}.")]))
        if kind == 8:
            return self._autocomplete_answer(record, data)
        message = message_from("callback", data, files)
        if kind in (4, 7):
            refused = self._refuse_message(record, data, files, message)
            if refused is not None:
                return refused
        if (refused := self._off_spec(record)) is not None:
            return refused
        if kind == 9:  # a modal: acknowledges, but there is no message
            record.acknowledged_at = self.now()
            record.callback_type = kind
            record.touch()
            return json_response({"interaction": {"id": str(record.id), "type": 2}, "resource": {"type": 9}})
        if kind == 5:
            message.content = None
        record.acknowledged_at = self.now()
        record.callback_type = kind
        record.responses.append(message)
        record.touch()
        channel = self.channel_ids.get(self.guild_ids[0], 0)
        return json_response({
            "interaction": {"id": str(record.id), "type": 2, "response_message_id": str(message.id),
                            "response_message_loading": kind == 5,
                            "response_message_ephemeral": bool(message.flags & 64)},
            "resource": {"type": kind, "message": self._message_object(message, channel)},
        })

    def _autocomplete_answer(self, record: InteractionRecord, data: dict[str, Any]) -> web.Response:
        problems = autocomplete_problems(data, record.focused_option_type or 3)
        if problems:
            texts = [f"autocomplete {where}: {text}" for where, _, text in problems]
            self.violations.extend(f"/{record.command}: {text}" for text in texts)
            return self._refuse(record, 400, 50035, "Invalid Form Body", body=invalid_form_body(problems))
        if (refused := self._off_spec(record)) is not None:
            return refused
        record.acknowledged_at = self.now()
        record.autocomplete_choices = data.get("choices") or []
        record.touch()
        return json_response({"interaction": {"id": str(record.id), "type": 4}, "resource": {"type": 8}})

    def _webhook(self, method: str, token: str, rest: list[str], body: dict[str, Any],
                 files: list[tuple[str, bytes]]) -> web.Response:
        record = self.interactions.get(token)
        if record is None:
            return error_response(404, 10015, "Unknown Webhook")
        if record.acknowledged_at is None:
            # the token's webhook exists only once the interaction was answered (Rapptz/discord.py#10461)
            return self._refuse(record, 404, 10015, "Unknown Webhook",
                                "follow-up or edit before the interaction was acknowledged")
        if self.now() > record.expires_at:
            return self._refuse(record, 401, 50027, "Invalid Webhook Token",
                                "follow-up or edit after the 15-minute token expired")
        if record.acknowledged_at is None:
            return self._refuse(record, 404, 10015, "Unknown Webhook")
        channel = self.channel_ids.get(self.guild_ids[0], 0)
        if method == "GET" and rest[:2] == ["messages", "@original"]:
            original = record.original()
            return json_response(self._message_object(original, channel)) if original else error_response(
                404, 10008, "Unknown Message")
        if method == "POST" and not rest:
            message = message_from("followup", body, files)
            refused = self._refuse_message(record, body, files, None)
        elif method == "PATCH" and rest[:2] == ["messages", "@original"]:
            message = message_from("edit", body, files, record.original())
            refused = self._refuse_message(record, body, files, message)
        elif method == "PATCH" and rest[:1] == ["messages"] and len(rest) == 2:
            target = next((m for m in reversed(record.responses) if str(m.id) == rest[1]), None)
            if target is None:
                return error_response(404, 10008, "Unknown Message")
            message = message_from("followup" if target.kind == "followup" else "edit", body, files, target)
            refused = self._refuse_message(record, body, files, message)
        elif method == "DELETE":
            return web.Response(status=204)
        else:
            return error_response(404, 0, "404: Not Found")
        if refused is not None:
            return refused
        record.responses.append(message)
        record.touch()
        state = record.original() if message.kind == "edit" else message
        return json_response(self._message_object(state or message, channel))
