"""The `fields` filter of `GET /playlists/{id}` and `GET /playlists/{id}/items`.

As the 2026 OpenAPI description documents it: "a comma-separated list of the fields to return.
If omitted, all fields are returned"; a dot names a field inside an object (`owner.id`),
parentheses several (`owner(id,display_name)`), and apply to each element of a list
(`items(added_at,item(uri))`); a field prefixed with `!` is left out (`album(!name,href)`). A
field named and also excluded in one set is kept; a set of exclusions alone keeps the rest.
A filter that does not parse is answered 400 (our choice: the description names no error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.api.base import ApiError


@dataclass
class Selection:
    """The fields named at one level: each with what is named below it (None: all of it)."""

    included: dict[str, Selection | None] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)

    def include(self, name: str, below: Selection | None) -> None:
        if name in self.included:
            known = self.included[name]
            # Named whole once is whole; named twice in parts is the union of the parts.
            self.included[name] = None if known is None or below is None else known.merged(below)
        else:
            self.included[name] = below

    def merged(self, other: Selection) -> Selection:
        out = Selection(dict(self.included), self.excluded | other.excluded)
        for name, below in other.included.items():
            out.include(name, below)
        return out

    def apply(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.apply(v) for v in value]
        if not isinstance(value, dict):
            return value  # null entries stay null; a scalar has nothing inside to choose
        if self.included:
            return {name: value[name] if below is None else below.apply(value[name])
                    for name, below in self.included.items() if name in value}
        return {name: v for name, v in value.items() if name not in self.excluded}


def parse_fields(raw: str) -> Selection:
    parser = _Parser(raw)
    selection = parser.selection()
    if parser.at < len(raw):
        raise ApiError(400, "Invalid fields")
    return selection


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def _peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def selection(self) -> Selection:
        selection = Selection()
        while True:
            self.entry(selection)
            if self._peek() != ",":
                return selection
            self.at += 1

    def entry(self, into: Selection) -> None:
        excluded = self._peek() == "!"
        if excluded:
            self.at += 1
        start = self.at
        while self.at < len(self.text) and self.text[self.at] not in ",.()!":
            self.at += 1
        name = self.text[start : self.at].strip()
        if not name:
            raise ApiError(400, "Invalid fields")
        below: Selection | None = None
        if self._peek() == ".":
            self.at += 1
            below = Selection()
            self.entry(below)
        elif self._peek() == "(":
            self.at += 1
            below = self.selection()
            if self._peek() != ")":
                raise ApiError(400, "Invalid fields")
            self.at += 1
        if excluded and below is None:
            into.excluded.add(name)
        else:
            into.include(name, below)


def filtered(body: Any, raw: str | None) -> Any:
    """`body` as `fields=raw` asks for it (all of it without the parameter)."""
    if raw is None or not raw.strip():
        return body
    return parse_fields(raw).apply(body)
