"""Genre names: what members type and see, for the model's two-level taxonomy.

Turns what a member typed (`/sort genres:jazz, k-pop`, a level, an older option value) into
families and genres, suggests close names for what the taxonomy does not know, and names the
playlists ("Jazz & Blues · genrebot", "K-Pop · Road trip 2019 · genrebot") within Spotify's
limits. Pure logic, shared by the Discord layer, the sort service and `genrebot sort --csv`;
`playlist_plan` decides which songs go where.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from bot.spotify.own_playlists import cut, one_line, text_units
from classifier.taxonomy import Taxonomy, lookup_key

Level = Literal["family", "genre"]
LEVELS: tuple[Level, ...] = ("family", "genre")
# Option values of the six-genre model that keep working: its second level was "subgenre".
LEVEL_ALIASES: dict[str, Level] = {"subgenre": "genre"}


PLAYLIST_NAME_SUFFIX = " · genrebot"
PLAYLIST_NAME_LIMIT = 100  # Spotify refuses longer playlist names
SUGGESTIONS = 5
# Phones and some keyboards type a curly apostrophe for "'" ("Children’s", "Rock ’n’ Roll": smart
# punctuation, on by default on iOS) and a dash for "-"; the taxonomy spells names with straight ones.
_TYPED_PUNCTUATION = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
})
_ACRONYMS = {"edm": "EDM", "r&b": "R&B", "idm": "IDM", "uk": "UK", "dnb": "DnB"}


def parse_level(text: str) -> Level:
    """'family', 'genre', or an older name for one of them ('subgenre'); ValueError otherwise."""
    value = text.strip().lower()
    if value in LEVELS:
        return cast(Level, value)
    if value in LEVEL_ALIASES:
        return LEVEL_ALIASES[value]
    raise ValueError(f"unknown level {text!r}: use family or genre")


class UnknownGenre(ValueError):
    """A requested name is neither a family nor a genre of the model's taxonomy."""

    def __init__(self, unknown: Sequence[str], suggestions: Sequence[str]) -> None:
        self.unknown = tuple(unknown)
        self.suggestions = tuple(suggestions)  # the closest labels, a handful at most
        super().__init__(f"unknown genre(s): {', '.join(self.unknown)}")


class NoGenresNamed(ValueError):
    """A list of families and genres that names none (commas and spaces alone): a member who meant
    every genre leaves the option out."""

    def __init__(self) -> None:
        super().__init__("the list of genres names none")


# --- Names: what members type and see -------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    """A family or a genre of the taxonomy, as a member picked it."""

    level: Level
    key: str  # the family's key, or the genre's
    family: str  # the family itself, or the genre's family

    @property
    def playlist_key(self) -> str:
        return self.family if self.level == "family" else f"{self.family}/{self.key}"


def genre_label(key: str) -> str:
    """A readable label for a key no taxonomy knows (an older model's): 'r&b' -> 'R&B',
    'rock/album rock' -> 'Album Rock'."""
    leaf = key.split("/")[-1]
    return " ".join(_ACRONYMS.get(word.lower(), word[:1].upper() + word[1:]) for word in leaf.split())


def pick_label(pick: Pick, taxonomy: Taxonomy) -> str:
    """The name members see for a family or a genre: 'Jazz & Blues', 'K-Pop'. A genre labelled like
    a family ('Rock', 'Pop') is 'Rock (genre)', as `resolve_pick` reads it back, so its playlist,
    chart bar or leaderboard is never a second 'Rock' beside the family's."""
    label = taxonomy.label(pick.key, pick.level)
    if pick.level == "genre" and label in _family_labels(taxonomy):
        return f"{label} (genre)"
    return label


def _family_labels(taxonomy: Taxonomy) -> set[str]:
    return {taxonomy.label(family, "family") for family in taxonomy.families}


def key_label(key: str, taxonomy: Taxonomy) -> str:
    """'jazz' -> 'Jazz & Blues', 'asian-pop/k-pop' -> 'K-Pop', 'rock/rock' -> 'Rock (genre)'; older
    keys read as they were."""
    pick = pick_of_key(key, taxonomy)
    return pick_label(pick, taxonomy) if pick else genre_label(key)


def playlist_name(label: str, source_name: str | None = None) -> str:
    """'Jazz & Blues · genrebot' from Liked Songs; 'K-Pop · Road trip 2019 · genrebot' from a playlist.

    The source's name is shortened (with '…') so the whole name stays within Spotify's 100
    characters (counted as `own_playlists.text_units` counts them); the family or genre and the
    genrebot mark are always there whole."""
    if source_name is None:
        return cut(f"{label}{PLAYLIST_NAME_SUFFIX}", PLAYLIST_NAME_LIMIT)
    room = PLAYLIST_NAME_LIMIT - text_units(label) - len(" · ") - len(PLAYLIST_NAME_SUFFIX)
    return cut(f"{label} · {shorten(source_name, max(1, room))}{PLAYLIST_NAME_SUFFIX}", PLAYLIST_NAME_LIMIT)


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters (UTF-16 units): whitespace runs (line breaks too)
    become one space, control and invisible characters go (`own_playlists.one_line`), and a cut
    ends with '…' between graphemes, at a word boundary where one is near."""
    line = one_line(text) or "untitled"
    if text_units(line) <= limit:
        return line
    start = cut(line, limit - 1)
    space = start.rfind(" ")
    if space >= limit * 2 // 3:
        start = start[:space]
    return start.rstrip(" ·-,") + "…"


def pick_of_key(key: str, taxonomy: Taxonomy) -> Pick | None:
    """The family or genre a stored playlist key names: 'rock', 'rock/alt-rock', or an older
    model's key that the taxonomy knows as an alias ('rap' -> Hip-Hop, 'rock/hard rock')."""
    family, slash, leaf = key.partition("/")
    if slash:
        if leaf in taxonomy.genre_index:
            return Pick("genre", leaf, taxonomy.family_of(leaf))
        found = taxonomy.resolve(leaf, "genre")
        return Pick("genre", found.key, taxonomy.family_of(found.key)) if found else None
    if key in taxonomy.family_index:
        return Pick("family", key, key)
    return _pick(taxonomy, key, ("family", "genre"))


def typed_key(text: str) -> str:
    """What a member typed, as the taxonomy looks names up: curly apostrophes and dashes read as
    straight ones, then case, spaces, hyphens and underscores ignored (`lookup_key`)."""
    return lookup_key(text.translate(_TYPED_PUNCTUATION))


def resolve_pick(text: str, taxonomy: Taxonomy, level: Level = "family") -> Pick | None:
    """What a member typed -> a family or a genre, or None. At family level a name that is both
    ('Rock') is the family; at genre level, the genre, unless that genre is another family's. 'Rock (family)' and 'Rock (genre)' say
    which; stored keys ('asian-pop/k-pop') are accepted too."""
    name = text.translate(_TYPED_PUNCTUATION).strip()
    for qualifier in LEVELS:
        suffix = f"({qualifier})"
        if name.lower().endswith(suffix):
            return _pick(taxonomy, name[: -len(suffix)], (qualifier,))
    if "/" in name:
        return pick_of_key(name, taxonomy) or _pick(taxonomy, name, ("family", "genre"))
    if level == "family":
        return _pick(taxonomy, name, ("family", "genre"))
    genre, family = _pick(taxonomy, name, ("genre",)), _pick(taxonomy, name, ("family",))
    if genre is not None and family is not None and genre.family != family.family:
        return family  # 'world music': World's other name, and a data set's tag for Worship
    return genre or family


def _pick(taxonomy: Taxonomy, text: str, levels: Sequence[Level]) -> Pick | None:
    for candidate in levels:
        found = taxonomy.resolve(text, candidate)
        if found is not None:
            family = found.key if candidate == "family" else taxonomy.family_of(found.key)
            return Pick(candidate, found.key, family)
    # Then as members also type names: 'reggaetón', 'hiphop', "rock'n'roll" (never a name two share).
    # Not across a comma: 'Pop, EDM' is two names to `split_genres`, never 'pop edm' (EDM).
    if "," in text:
        return None
    loose = loose_key(text)
    by_loose = _names(taxonomy).by_loose
    for candidate in levels:
        pick = by_loose[candidate].get(loose)
        if pick is not None:
            return pick
    return None


def loose_key(text: str) -> str:
    """A name with accents, case and all but its letters and digits left out, '&' read as 'and':
    'Reggaetón' -> 'reggaeton', "Rock'n'Roll" and 'rock n roll' -> 'rocknroll', 'hip hop' ->
    'hiphop', 'Jazz & Blues' and 'jazz and blues' -> 'jazzandblues'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TYPED_PUNCTUATION).replace("&", "and")).casefold()
    return "".join(char for char in decomposed if char.isalnum())


MAX_COMMAS_IN_A_NAME = 3


def split_genres(text: str, taxonomy: Taxonomy | None = None, level: Level = "family") -> list[str]:
    """'Rock, k-pop ,' -> ['Rock', 'k-pop']: the comma-separated list `/sort genres:` takes. With
    the taxonomy, a name with commas of its own stays whole ('Film, Stage & Comedy, Jazz' ->
    ['Film, Stage & Comedy', 'Jazz']): the longest run of parts that names something wins."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if taxonomy is None:
        return parts
    names: list[str] = []
    start = 0
    while start < len(parts):
        for end in range(min(len(parts), start + 1 + MAX_COMMAS_IN_A_NAME), start, -1):
            name = ", ".join(parts[start:end])
            if end == start + 1 or resolve_pick(name, taxonomy, level) is not None:
                names.append(name)
                start = end
                break
    return names


def resolve_genres(requested: Sequence[str], taxonomy: Taxonomy, level: Level = "family") -> tuple[str, ...]:
    """Names a member typed ('jazz', 'K-Pop', 'hard rock') -> playlist keys, in their order;
    UnknownGenre, with the closest names, for any the taxonomy does not know; NoGenresNamed for
    none at all (an empty pick would put every song in "not chosen")."""
    if not requested:
        raise NoGenresNamed()
    keys: list[str] = []
    unknown: list[str] = []
    for name in requested:
        pick = resolve_pick(name, taxonomy, level)
        if pick is None:
            unknown.append(name.strip())
        elif pick.playlist_key not in keys:
            keys.append(pick.playlist_key)
    if unknown:
        close = [label for name in unknown for label in closest_names(name, taxonomy)]
        raise UnknownGenre(unknown, list(dict.fromkeys(close))[:SUGGESTIONS])
    return tuple(keys)


@dataclass(frozen=True)
class NamedEntry:
    """One family or genre with its label: what autocomplete offers and suggestions name."""

    pick: Pick
    label: str
    names: tuple[str, ...]  # lookup keys of its label, key and aliases
    loose: tuple[str, ...]  # the same names as `loose_key` reads them, the label's first


@dataclass(frozen=True)
class _Names:
    taxonomy: Taxonomy
    entries: tuple[NamedEntry, ...]
    by_loose: dict[Level, dict[str, Pick]]  # only the loose names exactly one family (or genre) has


_NAMES: dict[int, _Names] = {}


def entries(taxonomy: Taxonomy) -> tuple[NamedEntry, ...]:
    """Every family, then every genre, with the names that resolve to it."""
    return _names(taxonomy).entries


def _names(taxonomy: Taxonomy) -> _Names:
    """Built once per taxonomy (autocomplete asks at every keystroke; a taxonomy never changes once loaded)."""
    cached = _NAMES.get(id(taxonomy))
    if cached is None or cached.taxonomy is not taxonomy:
        if len(_NAMES) >= 8:
            _NAMES.clear()
        named = tuple(_named_entries(taxonomy))
        owners: dict[tuple[Level, str], set[Pick]] = {}
        for entry in named:
            for loose in entry.loose:
                owners.setdefault((entry.pick.level, loose), set()).add(entry.pick)
        by_loose: dict[Level, dict[str, Pick]] = {"family": {}, "genre": {}}
        for (level, loose), picks in owners.items():
            if len(picks) == 1:
                by_loose[level][loose] = next(iter(picks))
        cached = _NAMES[id(taxonomy)] = _Names(taxonomy, named, by_loose)
    return cached


def _named_entries(taxonomy: Taxonomy) -> Iterator[NamedEntry]:
    family_aliases: dict[str, list[str]] = {}
    for alias, family in taxonomy.family_aliases.items():
        family_aliases.setdefault(family, []).append(alias)
    genre_aliases: dict[str, list[str]] = {}
    for alias, genre in taxonomy.aliases.items():
        genre_aliases.setdefault(genre, []).append(alias)
    for family in taxonomy.families:
        label = taxonomy.label(family, "family")
        names = (label, family, *family_aliases.get(family, ()))
        yield _entry(Pick("family", family, family), label, names)
    for genre in taxonomy.genres:
        label = taxonomy.label(genre, "genre")
        names = (label, genre, *genre_aliases.get(genre, ()))
        yield _entry(Pick("genre", genre, taxonomy.family_of(genre)), label, names)


def _entry(pick: Pick, label: str, names: Sequence[str]) -> NamedEntry:
    loose = tuple(dict.fromkeys(key for key in map(loose_key, names) if key))
    return NamedEntry(pick, label, tuple(dict.fromkeys(map(lookup_key, names))), loose)


def closest_names(text: str, taxonomy: Taxonomy, limit: int = SUGGESTIONS) -> list[str]:
    """Labels of the families and genres whose names start with `text` (a name cut short), then
    those that look most like it (typos), then those that contain it."""
    typed = typed_key(text)[:100]
    if not typed:
        return []
    by_name: dict[str, str] = {}
    for entry in entries(taxonomy):
        for name in entry.names:
            by_name.setdefault(name, entry.label)
    starting = [label for name, label in by_name.items() if len(typed) >= 3 and name.startswith(typed)]
    containing = [label for name, label in by_name.items() if len(typed) >= 3 and typed in name]
    similar = [by_name[name] for name in difflib.get_close_matches(typed, list(by_name), n=limit * 2, cutoff=0.6)]
    return list(dict.fromkeys([*starting, *similar, *containing]))[:limit]
