"""How genrebot recognises its own playlists in a member's Spotify, and keeps what it writes
within Spotify's limits.

Every playlist genrebot makes carries a short tag at the end of its description,
`[genrebot:<key>]` (`[genrebot:<key>:<part>]` for the continuation of a genre past Spotify's
10,000 songs, `...@<source>` for a playlist sorted from a source other than Liked Songs), with
the key and source percent-encoded so they survive Spotify's HTML-escaping of descriptions (a
tag too long for a description is a hash of the same). The tag is what lets genrebot adopt its own playlists when its
database does not know them (a crash between creating a playlist and recording it, a relink,
`/unlink`, a lost database) instead of making a second set, and find the playlist a create made
when Spotify's answer was lost.

Spotify's limits: names up to 100 characters; descriptions up to 300 characters and without
line breaks (it answers 500 otherwise); 10,000 items per playlist. Spotify does not say how it
counts a character, so text is measured the strictest way a server may (UTF-16 code units: an
emoji outside the Basic Multilingual Plane counts two), and a cut ends between graphemes, never
inside a flag, a joined emoji or a letter and its accent (`cut`). Control characters and
invisible formatting (zero-width spaces, direction overrides that would show "· genrebot"
backwards) and lone surrogates never reach Spotify (`one_line`).
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

from music import LIKED_SONGS_KEY

MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 300
MAX_PLAYLIST_ITEMS = 10_000

_TAG = re.compile(r"\[genrebot:[A-Za-z0-9._~%=:@-]+\]")
_SPACES = re.compile(r"\s+")
_LONGEST_TAG_BODY = 80  # longer ones are a hash, so the tag always fits in a description
# Invisible format characters that belong to no word or emoji: zero-width space, word joiner, BOM,
# the direction marks, embeddings, overrides and isolates. (Joiners stay: emoji and scripts use them.)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
                                    "\u2066\u2067\u2068\u2069"))
_ZWJ = "\u200d"


@dataclass(frozen=True, order=True)
class PlaylistSlot:
    """One playlist genrebot keeps for a member: a genre key, a part (past 10,000 songs) and the
    source it was sorted from (`music.SortSource.key`: Liked Songs unless said otherwise)."""

    key: str
    part: int = 1
    source: str = LIKED_SONGS_KEY

    @property
    def tag(self) -> str:
        """`[genrebot:rock]`, `[genrebot:rock:2]`, `[genrebot:rock@playlist%3A<id>]`; a tag too
        long to show is `=` and a hash of the slot."""
        body = quote(self.key, safe="")
        if self.part > 1:
            body += f":{self.part}"
        if self.source != LIKED_SONGS_KEY:
            body += "@" + quote(self.source, safe="")
        if len(body) > _LONGEST_TAG_BODY:
            slot = f"{self.key}\x00{self.part}\x00{self.source}"
            body = "=" + hashlib.sha256(slot.encode()).hexdigest()[:20]
        return f"[genrebot:{body}]"


@dataclass(frozen=True)
class OwnPlaylist:
    id: str
    url: str
    tag: str


def slot_of_tag(tag: str) -> PlaylistSlot | None:
    """The slot a tag was made from (`PlaylistSlot.tag` read back), or None for a hashed tag or
    anything else: how a playlist tagged by an older release is found under the key it reads as now."""
    if not (tag.startswith("[genrebot:") and tag.endswith("]")):
        return None
    body = tag[len("[genrebot:") : -1]
    if not body or body.startswith("="):
        return None
    body, at, source = body.partition("@")  # the key and source are percent-encoded: a bare @ or : is ours
    key, colon, part = body.partition(":")
    if colon and not (part.isdigit() and int(part) > 1):
        return None
    return PlaylistSlot(unquote(key), int(part) if colon else 1, unquote(source) if at else LIKED_SONGS_KEY)


def tag_of(description: str | None) -> str | None:
    """genrebot's tag in a playlist's description (as Spotify answers it: HTML-escaped), if any."""
    found = _TAG.search(html.unescape(description or ""))
    return found.group(0) if found else None


def one_line(text: str) -> str:
    """Line breaks, other control characters and runs of spaces as single spaces (Spotify answers
    500 to a line break), invisible formatting and lone surrogates (half a UTF-16 pair, which JSON
    can carry but no UTF-8 encoder takes) left out."""
    kept = (" " if unicodedata.category(c) == "Cc" else c for c in text.translate(_INVISIBLE))
    visible = "".join(c for c in kept if not "\ud800" <= c <= "\udfff")
    return _SPACES.sub(" ", visible).strip()


def text_units(text: str) -> int:
    """The length of `text` counted the strictest way a server may: in UTF-16 code units."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def cut(text: str, limit: int) -> str:
    """The longest start of `text` within `limit` UTF-16 units that ends between two graphemes."""
    end = units = 0
    for char in text:
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            break
        end += 1
    while 0 < end < len(text) and not _between_graphemes(text, end):
        end -= 1
    return text[:end]


def _between_graphemes(text: str, at: int) -> bool:
    """Whether text[:at] and text[at:] split no grapheme (Unicode's rules for what names hold:
    marks, joiners, variation selectors, skin tones, tag sequences and flag pairs; not Hangul jamo)."""
    before, after = text[at - 1], text[at]
    if before == _ZWJ or after == _ZWJ or unicodedata.category(after) in ("Mn", "Mc", "Me"):
        return False
    if 0x1F3FB <= ord(after) <= 0x1F3FF or 0xE0020 <= ord(after) <= 0xE007F:  # skin tone, tag
        return False
    if _regional_indicator(before) and _regional_indicator(after):
        run = 0
        while run < at and _regional_indicator(text[at - 1 - run]):
            run += 1
        return run % 2 == 0  # an odd run ends with the first half of a flag
    return True


def _regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def fit_name(name: str, part: int = 1) -> str:
    """A playlist name within Spotify's 100 characters; a continuation ends in " (2)", " (3)"..."""
    suffix = f" ({part})" if part > 1 else ""
    base = one_line(name)
    if text_units(base) + len(suffix) > MAX_NAME_CHARS:
        base = cut(base, MAX_NAME_CHARS - len(suffix) - 1).rstrip() + "…"
    return base + suffix


def tagged_description(text: str, slot: PlaylistSlot) -> str:
    """`text` on one line, shortened so that it and the slot's tag fit in 300 characters."""
    tag = slot.tag
    room = MAX_DESCRIPTION_CHARS - len(tag) - 1
    body = one_line(text)
    if text_units(body) > room:
        body = cut(body, max(0, room - 1)).rstrip() + "…"
    return f"{body} {tag}" if body else tag


def split_into_parts(uris: Sequence[str]) -> list[list[str]]:
    """Songs in playlists of at most 10,000, in order; always at least one (maybe empty) part."""
    parts = [list(uris[start : start + MAX_PLAYLIST_ITEMS]) for start in range(0, len(uris), MAX_PLAYLIST_ITEMS)]
    return parts or [[]]


def addable(uris: Sequence[str]) -> list[str]:
    """The URIs Spotify accepts in an add or a replace: songs and episodes, never `spotify:local:` files."""
    return [u for u in uris if u.startswith(("spotify:track:", "spotify:episode:"))]
