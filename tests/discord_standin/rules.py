"""The checks Discord makes on what a bot sends, as pure functions of the request body.

Each returns the problems it finds; the routes turn them into Discord's answers:
400 50035 "Invalid Form Body" with the nested `errors` object discord.py prints, 400 50006 for an
empty message, 413 40005 for an attachment over the size limit.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from tests.discord_standin.records import Message

# Application command option types whose autocomplete choices carry a value of that type.
STRING, INTEGER, NUMBER = 3, 4, 10
INT53 = 2**53 - 1  # Discord's integer and number choices must fit a JavaScript number exactly
CHOICES_MAX = 25
CHOICE_TEXT_MAX = 100  # choice names, and string choice values (Discord's docs: "up to 100 characters")

Problem = tuple[str, str, str]  # (dotted path into the body, Discord's error code, message)


def message_pings_everyone(message: Message) -> bool:
    """Discord's rule: @everyone/@here in content pings unless allowed_mentions forbids it."""
    content = message.content or ""
    if "@everyone" not in content and "@here" not in content:
        return False
    allowed = message.allowed_mentions
    if allowed is None:
        return True
    return "everyone" in (allowed.get("parse") or [])


def check_message(payload: dict[str, Any]) -> list[str]:
    """The limits Discord enforces on a message body (400 Invalid Form Body otherwise)."""
    return [text for _, _, text in message_problems(payload)]


def form_errors(problems: Sequence[tuple[str, str] | Problem]) -> dict[str, Any]:
    """Discord's nested `errors` object: {"content": {"_errors": [{"code": ..., "message": ...}]}}.
    Each problem is (where, code, message), or (where, message) with a generic code."""
    errors: dict[str, Any] = {}
    for problem in problems:
        where, code, text = problem if len(problem) == 3 else (problem[0], "BASE_TYPE_INVALID", problem[-1])
        node = errors
        for key in where.split("."):
            node = node.setdefault(key, {})
        node.setdefault("_errors", []).append({"code": code, "message": text})
    return errors


def invalid_form_body(problems: list[Problem]) -> dict[str, Any]:
    return {"code": 50035, "message": "Invalid Form Body", "errors": form_errors(problems)}


def is_empty_message(message: Message) -> bool:
    """Discord refuses (50006) a message with no content, embeds, attachments, stickers or components."""
    return not ((message.content or "").strip() or message.embeds or message.attachments or message.components)


def body_has_no_message(body: dict[str, Any], files: list[tuple[str, bytes]]) -> bool:
    """The same rule for a new message's body (stickers and polls count as content too)."""
    return not (
        (body.get("content") or "").strip() or body.get("embeds") or body.get("attachments") or files
        or body.get("components") or body.get("sticker_ids") or body.get("poll")
    )


def oversized_files(files: list[tuple[str, bytes]], limit: int) -> list[str]:
    """Names of the files over the attachment size limit (413 40005 "Request entity too large")."""
    return [name for name, data in files if len(data) > limit]


def message_problems(payload: dict[str, Any]) -> list[Problem]:
    """(where, code, what) for every limit the body breaks."""
    problems: list[Problem] = []

    def add(where: str, text: str, code: str = "BASE_TYPE_MAX_LENGTH") -> None:
        problems.append((where, code, text))

    content = payload.get("content")
    if content is not None and len(content) > 2000:
        add("content", f"content over 2000 characters ({len(content)})")
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        add("embeds", "more than 10 embeds")
    total = 0
    for i, embed in enumerate(embeds):
        for key, limit in (("title", 256), ("description", 4096)):
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                add(f"embeds.{i}.{key}", f"embed {key} over {limit} characters")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            add(f"embeds.{i}.fields", "more than 25 embed fields")
        for j, f in enumerate(fields):
            name, value = f.get("name") or "", f.get("value") or ""
            total += len(name) + len(value)
            for key, text, limit in (("name", name, 256), ("value", value, 1024)):
                # Discord trims a field's name and value: blank (spaces, U+00A0) is refused as if
                # missing, a zero-width space (U+200B, not whitespace) is the usual "empty" field
                # (discord-net/Discord.Net#758); missing: BASE_TYPE_REQUIRED (Glitchii/embedbuilder#57)
                if not text.strip():
                    add(f"embeds.{i}.fields.{j}.{key}", f"embed field {key} missing or blank ({text!r})",
                        "BASE_TYPE_REQUIRED")
                elif len(text) > limit:
                    add(f"embeds.{i}.fields.{j}.{key}", f"embed field {key} over {limit} characters",
                        "BASE_TYPE_BAD_LENGTH")
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        total += len(footer) + len(author)
        if len(footer) > 2048:
            add(f"embeds.{i}.footer.text", "embed footer over 2048 characters")
        if len(author) > 256:
            add(f"embeds.{i}.author.name", "embed author over 256 characters")
    if total > 6000:
        add("embeds", f"embeds over 6000 characters in all ({total})")
    rows = payload.get("components") or []
    if len(rows) > 5:
        add("components", "more than 5 action rows")
    for i, row in enumerate(rows):
        items = row.get("components") or []
        if len(items) > 5:
            add(f"components.{i}.components", "more than 5 components in an action row", "COMPONENT_LAYOUT_WIDTH_EXCEEDED")
        if any(item.get("type") in SELECT_TYPES for item in items) and len(items) > 1:
            add(f"components.{i}.components", "a select menu shares its action row", "COMPONENT_LAYOUT_WIDTH_EXCEEDED")
        for j, component in enumerate(items):
            if component.get("type") in SELECT_TYPES:
                problems += _select_problems(f"components.{i}.components.{j}", component)
            if component.get("type") != 2:
                continue
            where = f"components.{i}.components.{j}"
            if len(component.get("label") or "") > 80:
                add(f"{where}.label", "button label over 80 characters")
            if component.get("style") == 5:
                if not component.get("url") or component.get("custom_id"):
                    add(where, "link button needs a url and no custom_id", "COMPONENT_INVALID")
                elif len(component["url"]) > 512:
                    add(f"{where}.url", "button url over 512 characters")
            elif not component.get("custom_id") or len(component["custom_id"]) > 100:
                add(f"{where}.custom_id", "button needs a custom_id of at most 100 characters", "BASE_TYPE_BAD_LENGTH")
    return problems


SELECT_TYPES = {3, 5, 6, 7, 8}  # string, user, role, mentionable and channel selects


def _select_problems(where: str, select: dict[str, Any]) -> list[Problem]:
    """A select menu's limits: custom_id 1-100, placeholder up to 150, min_values 0-25 and
    max_values 1-25; a string select's options 1-25, each label and value 1-100, description up to 100."""
    problems: list[Problem] = []
    custom_id = select.get("custom_id") or ""
    if not 1 <= len(custom_id) <= 100:
        problems.append((f"{where}.custom_id", "BASE_TYPE_BAD_LENGTH", "select menu needs a custom_id of at most 100 characters"))
    if len(select.get("placeholder") or "") > 150:
        problems.append((f"{where}.placeholder", "BASE_TYPE_MAX_LENGTH", "select placeholder over 150 characters"))
    if not 0 <= select.get("min_values", 1) <= 25 or not 1 <= select.get("max_values", 1) <= 25:
        problems.append((where, "NUMBER_TYPE_MAX", "select min_values 0-25 and max_values 1-25"))
    if select.get("type") != 3:
        return problems
    options = select.get("options") or []
    if not 1 <= len(options) <= 25:
        problems.append((f"{where}.options", "BASE_TYPE_BAD_LENGTH", "select menu with 1-25 options"))
    for k, option in enumerate(options):
        for key, low in (("label", 1), ("value", 1), ("description", 0)):
            text = option.get(key) or ""
            if not low <= len(text) <= 100:
                problems.append((f"{where}.options.{k}.{key}", "BASE_TYPE_BAD_LENGTH", f"select option {key} over 100 characters"
                                 if text else f"select option {key} missing"))
    return problems


def autocomplete_problems(data: dict[str, Any], option_type: int) -> list[Problem]:
    """What Discord refuses in a type-8 callback: over 25 choices, names outside 1-100 characters,
    string values over 100 characters, values of another type than the focused option's, and
    integers or numbers outside +/-2^53."""
    problems: list[Problem] = []
    choices = data.get("choices")
    if choices is None:
        return problems
    if not isinstance(choices, list):
        return [("data.choices", "BASE_TYPE_ARRAY", "Must be an array.")]
    if len(choices) > CHOICES_MAX:
        problems.append(("data.choices", "BASE_TYPE_MAX_LENGTH", f"Must be {CHOICES_MAX} or fewer in length."))
    for i, choice in enumerate(choices):
        where = f"data.choices.{i}"
        name = choice.get("name") if isinstance(choice, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= CHOICE_TEXT_MAX:
            problems.append((f"{where}.name", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {CHOICE_TEXT_MAX} in length."))
        value = choice.get("value") if isinstance(choice, dict) else None
        problems += _choice_value_problems(f"{where}.value", value, option_type)
    return problems


def _choice_value_problems(where: str, value: Any, option_type: int) -> list[Problem]:
    if option_type == STRING:
        if not isinstance(value, str):
            return [(where, "BASE_TYPE_STRING", f"Could not interpret \"{value}\" as string.")]
        if not 1 <= len(value) <= CHOICE_TEXT_MAX:
            return [(where, "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {CHOICE_TEXT_MAX} in length.")]
        return []
    if option_type == INTEGER and (isinstance(value, bool) or not isinstance(value, int)):
        return [(where, "NUMBER_TYPE_COERCE", f"Value \"{value}\" is not int.")]
    if option_type == NUMBER and (isinstance(value, bool) or not isinstance(value, int | float)):
        return [(where, "NUMBER_TYPE_COERCE", f"Value \"{value}\" is not a valid number.")]
    if option_type in (INTEGER, NUMBER) and not -INT53 <= value <= INT53:
        return [(where, "NUMBER_TYPE_MAX", f"int53 value should be between {-INT53} and {INT53}.")]
    return []


def sync_problems(commands: list[dict[str, Any]]) -> list[Problem]:
    """The rules Discord checks when commands are overwritten in bulk (its application-commands
    docs): a slash command's name and its options' names match `^[-_'\\p{L}\\p{N}\\p{sc=Deva}
    \\p{sc=Thai}]{1,32}$` in lowercase where a letter has a lowercase form; descriptions are 1-100
    characters; at most 25 options, required ones listed before optional ones, names unique among
    their siblings; at most 25 choices (names 1-100, string values up to 100); `min_length` 0-6000
    and `max_length` 1-6000; name, description, option names and descriptions and choice names and
    values at most 4,000 characters in all; and command names unique in one overwrite
    (APPLICATION_COMMANDS_DUPLICATE_NAME)."""
    problems: list[Problem] = []
    seen: set[tuple[int, str]] = set()
    for i, command in enumerate(commands):
        name, kind = command.get("name", ""), command.get("type", 1)
        if (kind, name) in seen:
            problems.append((f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME",
                             "Application command names must be unique"))
        seen.add((kind, name))
        if kind == 1:
            problems += _named_and_described(f"{i}", command, f"/{name}")
            problems += _option_problems(f"{i}.options", command.get("options") or [], f"/{name}")
        elif not 1 <= len(name) <= 32:
            problems.append((f"{i}.name", "BASE_TYPE_BAD_LENGTH", f"command name {name!r} must be 1-32 characters"))
        if kind == 1 and (total := _characters(command)) > COMMAND_CHARACTERS_MAX:
            problems.append((f"{i}", "APPLICATION_COMMAND_TOO_LARGE",
                             f"/{name} is {total} characters in all, over {COMMAND_CHARACTERS_MAX}"))
    return problems


COMMAND_CHARACTERS_MAX = 4000
_SCRIPTS_ALLOWED = ((0x0900, 0x097F), (0x0E00, 0x0E7F))  # Devanagari and Thai, marks included


def valid_command_name(name: str) -> bool:
    """Discord's naming rule for slash commands and their options."""
    if not 1 <= len(name) <= 32 or name != name.lower():
        return False
    return all(
        char in "-_'" or unicodedata.category(char)[0] in "LN"
        or any(low <= ord(char) <= high for low, high in _SCRIPTS_ALLOWED)
        for char in name
    )


def _named_and_described(where: str, item: dict[str, Any], label: str) -> list[Problem]:
    prefix = f"{where}." if where else ""
    problems: list[Problem] = []
    name, description = item.get("name", ""), item.get("description") or ""
    if not valid_command_name(name):
        problems.append((f"{prefix}name", "APPLICATION_COMMAND_INVALID_NAME",
                         f"{label}: name {name!r} is not 1-32 lowercase letters, digits, '-', '_' or \"'\""))
    if not 1 <= len(description) <= 100:
        problems.append((f"{prefix}description", "BASE_TYPE_BAD_LENGTH",
                         f"{label}: description must be 1-100 characters ({len(description)})"))
    return problems


def _option_problems(where: str, options: list[dict[str, Any]], label: str) -> list[Problem]:
    problems: list[Problem] = []
    if len(options) > 25:
        problems.append((where, "BASE_TYPE_MAX_LENGTH", f"{label} has more than 25 options"))
    names: set[str] = set()
    optional_seen = False
    for j, option in enumerate(options):
        at, name = f"{where}.{j}", option.get("name", "")
        problems += _named_and_described(at, option, f"{label} {name}")
        if name in names:
            problems.append((f"{at}.name", "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME",
                             f"{label}: option names must be unique ({name!r})"))
        names.add(name)
        if option.get("type") in (1, 2):  # a subcommand (group) holds options of its own
            problems += _option_problems(f"{at}.options", option.get("options") or [], f"{label} {name}")
            continue
        if option.get("required") and optional_seen:
            problems.append((f"{at}.required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                             f"{label}: required option {name!r} after an optional one"))
        optional_seen = optional_seen or not option.get("required")
        problems += _choice_and_length_problems(at, option, f"{label} {name}")
    return problems


def _choice_and_length_problems(at: str, option: dict[str, Any], label: str) -> list[Problem]:
    problems: list[Problem] = []
    choices = option.get("choices") or []
    if len(choices) > CHOICES_MAX:
        problems.append((f"{at}.choices", "BASE_TYPE_MAX_LENGTH", f"{label}: more than {CHOICES_MAX} choices"))
    for k, choice in enumerate(choices):
        if not 1 <= len(choice.get("name", "")) <= CHOICE_TEXT_MAX:
            problems.append((f"{at}.choices.{k}.name", "BASE_TYPE_BAD_LENGTH",
                             f"{label}: choice names must be 1-{CHOICE_TEXT_MAX} characters"))
        value = choice.get("value")
        if isinstance(value, str) and len(value) > CHOICE_TEXT_MAX:
            problems.append((f"{at}.choices.{k}.value", "BASE_TYPE_BAD_LENGTH",
                             f"{label}: string choice values must be at most {CHOICE_TEXT_MAX} characters"))
    for key, low in (("min_length", 0), ("max_length", 1)):
        if key in option and not low <= option[key] <= 6000:
            problems.append((f"{at}.{key}", "NUMBER_TYPE_MAX", f"{label}: {key} must be {low}-6000"))
    return problems


def _characters(item: dict[str, Any]) -> int:
    """What counts towards a command's 4,000 characters."""
    total = len(item.get("name", "")) + len(item.get("description") or "")
    total += sum(len(c.get("name", "")) + len(str(c.get("value", ""))) for c in item.get("choices") or [])
    return total + sum(_characters(option) for option in item.get("options") or [])
