"""The genre lists (/genres and /genres family:) of the shipped model and of a taxonomy far bigger
than an embed, within Discord's limits."""

from __future__ import annotations

from bot.presenters.genres import family_embed, genres_embed
from bot.services.genre_names import resolve_pick
from classifier import Classifier, Taxonomy
from tests.bot.presenters.discord_markdown import live_markdown, shown_text
from tests.bot.presenters.embed_limits import within_discords_embed_limits


def one_family(label: str, genre_label: str = "Alt-Rock", aliases: tuple[str, ...] = ()) -> Taxonomy:
    return Taxonomy([{"key": "rock", "label": label,
                      "genres": [{"key": "alt-rock", "label": genre_label, "aliases": list(aliases)}]}])


def long_name(pad: int) -> str:
    """A 300-character name full of underscores; the pad moves where a cut falls."""
    return "x" * pad + " ".join(["Nu_Metal_Core"] * 22)


def test_the_genre_list_of_the_shipped_model_fits_one_embed_and_names_every_family() -> None:
    """/genres: a field per family of the real taxonomy, its genres listed, within Discord's limits."""
    classifier = Classifier.load()
    embed = genres_embed(classifier.taxonomy, classifier.version)
    assert within_discords_embed_limits(embed)
    assert [f.name for f in embed.fields] == [classifier.taxonomy.label(f, "family") for f in classifier.taxonomy]
    assert sum(len((f.value or "").split(", ")) for f in embed.fields) == len(classifier.taxonomy.genres)


def test_a_taxonomy_far_bigger_than_an_embed_is_cut_to_fit() -> None:
    """60 families of 30 long-named genres: 25 fields, 'more families', every field cut with '…and N more'."""
    big = Taxonomy([{"key": f"family-{f}", "label": f"Family number {f} " + "x" * 60,
                     "genres": [{"key": f"g{f}-{g}", "label": f"Genre {g} of family {f} " + "y" * 40} for g in range(30)]}
                    for f in range(60)])
    embed = genres_embed(big, "v")
    assert within_discords_embed_limits(embed) and len(embed.fields) == 25
    assert embed.fields[-1].name == "36 more families" and "more" in (embed.fields[0].value or "")


def test_a_familys_genres_fit_one_embed() -> None:
    """/genres family: each of the shipped model's families opens within the limits, listing all its genres."""
    taxonomy = Classifier.load().taxonomy
    for family in taxonomy:
        embed = family_embed(taxonomy, family, "v")
        assert within_discords_embed_limits(embed)
        assert (embed.description or "").count("**") == 2 * len(taxonomy[family])


def test_a_long_family_name_heads_its_field_shortened_never_cut_mid_escape() -> None:
    """/genres: a 300-character family name, wherever the cut falls, shows its start and '…' as the
    field's name, every underscore as written, no stray backslash, within 256 characters."""
    for pad in range(16):
        embed = genres_embed(one_family(long_name(pad)), "v")
        name = embed.fields[0].name or ""
        assert shown_text(name).endswith("…") and long_name(pad).startswith(shown_text(name)[:-1]), (pad, name)
        assert "\\" not in shown_text(name) and live_markdown(name) == [], (pad, name)
        assert within_discords_embed_limits(embed)


def test_a_long_genre_name_is_shortened_inside_its_bold_never_cut_mid_escape() -> None:
    """/genres family: a 300-character genre name, wherever the cut falls, reads in bold as its start and
    '…', every underscore as written, no stray backslash, its bold closed."""
    for pad in range(16):
        line = family_embed(one_family("Rock", long_name(pad)), "rock", "v").description or ""
        shown = shown_text(line)
        assert shown.startswith("**") and shown.endswith("…**"), (pad, line)
        assert long_name(pad).startswith(shown[2:-3]) and "\\" not in shown, (pad, line)
        assert live_markdown(line) == ["*"] * 4, (pad, line)


def test_long_other_names_of_a_genre_are_each_shortened_never_cut_mid_escape() -> None:
    """/genres family: four 300-character other names, wherever the cut falls, each read as its start
    and '…', every underscore as written, no stray backslash, only the genre's own bold live."""
    for pad in range(16):
        others = tuple(f"{i} {long_name(pad)}" for i in range(4))
        line = family_embed(one_family("Rock", "Alt-Rock", others), "rock", "v").description or ""
        shown = shown_text(line)
        assert shown.startswith("**Alt-Rock** — also ") and "\\" not in shown, (pad, line)
        listed = shown.removeprefix("**Alt-Rock** — also ").split(", ")
        assert len(listed) == 4, (pad, line)
        for name, other in zip(listed, others, strict=True):
            assert name.endswith("…") and other.startswith(name[:-1]), (pad, line)
        assert live_markdown(line) == ["*"] * 4, (pad, line)


def test_a_long_hostile_family_name_leaves_a_whole_title() -> None:
    """/genres family: a 300-character family name full of markdown reads as its start and '…', shown as
    written and unformatted, and the title still ends ': 1 genre', within 256 characters."""
    label = "**Loud** " + long_name(0)
    title = family_embed(one_family(label), "rock", "v").title or ""
    assert len(title) <= 256 and title.endswith("…: 1 genre"), title
    assert label.startswith(shown_text(title).removesuffix("…: 1 genre")) and live_markdown(title) == [], title


def test_a_familys_other_names_are_only_those_that_open_their_genre() -> None:
    """/genres family:Gospel no longer lists Worship as 'also world-music' ('world music' is World &
    Regional's own other name, and means that family at level:genre too); every other name listed
    picks its genre at level:genre, as the footer says."""
    taxonomy = Classifier.load().taxonomy
    gospel = family_embed(taxonomy, "gospel", "v").description or ""
    assert "world-music" not in gospel and "christian worship" in gospel
    for family in taxonomy:
        for line in (family_embed(taxonomy, family, "v").description or "").split("\n"):
            label, _, others = line.partition(" — also ")
            genre = resolve_pick(label.strip("*"), taxonomy, "genre")
            for other in filter(None, others.split(", ")):
                assert resolve_pick(other, taxonomy, "genre") == genre, (other, label)
