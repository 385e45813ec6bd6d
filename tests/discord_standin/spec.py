"""Request bodies checked against Discord's own OpenAPI description of API v10
(`../shared/specs/discord-api.openapi.json`, from discord/discord-api-spec).

Every JSON body (or multipart `payload_json`) the bot sends to a route the description knows is
validated against that operation's request schema, so a field of the wrong type or shape is
refused as Discord refuses it (400 50035) even where `rules.py` has no hand-written check. Where
the shared specs folder is absent the check is off (`RequestSpec.load()` returns None).
One correction to the description: snowflakes may be JSON integers, as Discord accepts them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "discord-api.openapi.json"


@dataclass(frozen=True, eq=False)
class _Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    literal_segments: int
    validator: Draft202012Validator


class RequestSpec:
    def __init__(self, spec: dict[str, Any]) -> None:
        self._operations: list[_Operation] = []
        document = {key: value for key, value in spec.items() if key != "paths"}
        schemas = dict(document["components"]["schemas"])
        # The description types snowflakes as strings; Discord coerces JSON integers too, and
        # discord.py sends some as integers (recipient_id, the attachment index in `attachments`).
        schemas["SnowflakeType"] = {"anyOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]}
        document["components"] = {**document["components"], "schemas": schemas}
        for template, item in spec["paths"].items():
            segments = template.split("/")
            pattern = re.compile("/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments) + "$")
            literal = sum(1 for s in segments if s and not s.startswith("{"))
            for method, operation in item.items():
                schema = ((operation.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema") \
                    if isinstance(operation, dict) else None
                if schema is None:
                    continue
                # The operation's schema at the root of a copy of the document, so that its
                # "#/components/schemas/..." references resolve (OpenAPI keys are ignored by JSON Schema).
                root = {**document, **schema}
                self._operations.append(_Operation(method.upper(), template, pattern, literal, Draft202012Validator(root)))
        # "/messages/@original" before "/messages/{message_id}"
        self._operations.sort(key=lambda op: -op.literal_segments)

    @staticmethod
    @cache
    def load(path: Path = SPEC_PATH) -> RequestSpec | None:
        if not path.exists():
            return None
        return RequestSpec(json.loads(path.read_text()))

    def operation(self, method: str, path: str) -> str | None:
        """The spec's path template for a request, if it describes a body for it."""
        found = self._find(method, path)
        return found.template if found else None

    def _find(self, method: str, path: str) -> _Operation | None:
        return next((op for op in self._operations if op.method == method and op.pattern.match(path)), None)

    def problems(self, method: str, path: str, body: Any) -> list[tuple[str, str, str]]:
        """(where, code, message) for the body's departures from the spec (empty: conforms or unknown)."""
        operation = self._find(method, path)
        if operation is None or body is None:
            return []
        return _problems(operation, json.dumps(body, sort_keys=True))


@lru_cache(maxsize=4096)
def _problems(operation: _Operation, body_json: str) -> list[tuple[str, str, str]]:
    """Cached by body: a flood of identical answers costs one validation."""
    error = best_match(operation.validator.iter_errors(json.loads(body_json)))
    if error is None:
        return []
    error = _closest(error)
    where = ".".join(str(p) for p in error.absolute_path) or "_root"
    return [(where, "SPEC_" + str(error.validator).upper(), error.message[:300])]


def _closest(error: ValidationError) -> ValidationError:
    """Inside an anyOf/oneOf, the error of the branch the body meant (the one whose `type`
    discriminator and basic shape match), rather than "not valid under any of the given schemas"."""
    if not error.context:
        return error
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    meant = [errors for errors in branches.values()
             if not any(list(e.relative_path) in ([], ["type"]) for e in errors)]
    if not meant:
        return error
    chosen = best_match(min(meant, key=len))
    return _closest(chosen) if chosen is not None else error
