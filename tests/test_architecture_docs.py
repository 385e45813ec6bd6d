"""The architecture as written down (README, docs/architecture.md) matches the tree and the rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_layers import RULES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "docs/architecture.md")
# Paths of our files as the docs write them: bot/services/root.py, storage/schema/V1__x.sql...
FILE_PATH = re.compile(r"(?<![\w./-])(?:(?:bot|classifier|training|storage|sandbox|music|bench|tests|docs)/[\w/]*\w"
                       r"\.(?:py|md|sql|json)|genrebot_cli\.py|cli_errors\.py|cli_output\.py)\b")


@pytest.mark.parametrize("doc", DOCS)
def test_every_file_the_docs_name_exists(doc: str) -> None:
    """A renamed or deleted file must not live on in the docs."""
    named = set(FILE_PATH.findall((ROOT / doc).read_text(encoding="utf-8")))
    assert named, f"{doc} names no files: the pattern is broken"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"{doc} names files that do not exist: {missing}"


def test_every_layer_rule_is_written_down() -> None:
    """docs/architecture.md lists each rule tests/test_layers.py enforces, and no other."""
    text = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z-]+)` \|", text, flags=re.M))
    assert listed == {rule.name for rule in RULES}


def test_the_readme_picture_cites_only_real_rules() -> None:
    """Every [rule-name] in README's architecture picture is a rule the test enforces."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    picture = readme[readme.index("## Architecture") : readme.index("## The model")]
    cited = set(re.findall(r"\[([a-z]+(?:-[a-z]+)+)\]", picture))
    assert cited and cited <= {rule.name for rule in RULES}
