"""How Discord shows a message's markdown, as far as the presenters' tests need it: what text a
member reads, and which formatting or mentions are left live."""

from __future__ import annotations

import re

# Discord reads a bare link whole, as it is (nothing inside it is an escape or formatting); out of
# links, a backslash before any punctuation shows that character as it is and hides the backslash
# (before a letter, a digit or a space the backslash is shown).
LINK_OR_ESCAPE = re.compile(r"(?P<link>https?://[^\s<]+[^<.,:;\"'\]\s])|\\(?P<escaped>[^0-9A-Za-z\s])")
# Discord ids (snowflakes) have 17 to 20 digits: "<@123>" names nobody and pings nobody.
MENTION = re.compile(r"@(?:everyone|here)|<@[!&]?[0-9]{17,20}>")


def shown_text(markdown: str) -> str:
    """The characters a member reads: escapes hide their backslash, and the zero-width space that
    breaks a mention is invisible."""
    shown = LINK_OR_ESCAPE.sub(lambda m: m["link"] or m["escaped"], markdown)
    return shown.replace("\u200b", "")


def live_markdown(markdown: str) -> list[str]:
    """The markup left unescaped: bold, italics, underline, strike-through, spoilers and code
    anywhere, a masked link, and a quote, heading, subtext or list item at a line's start (each of
    those is its mark and a space). Links and escaped characters are plain text."""
    plain = LINK_OR_ESCAPE.sub(lambda m: "link" if m["link"] else "e", markdown)
    return (re.findall(r"[*_~|`]", plain) + re.findall(r"\[[^\]\n]*\]\(", plain)
            + re.findall(r"(?m)^[ \t]*(?:>(?:>>)?|#{1,3}|-#|-)[ \t]", plain))


def live_mentions(markdown: str) -> list[str]:
    """@everyone, @here and user or role mentions that would ping (a zero-width space breaks them)."""
    return MENTION.findall(markdown)
