"""The architecture's rules, checked against the code: no import cycles, no forbidden imports.

Every module's imports are read with `ast`, including imports inside functions and under
`if TYPE_CHECKING:`: a deferred import still ties two modules together, it only hides the loop
until the wrong module is imported first. README's architecture picture cites `RULES` below.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "classifier", "training", "storage", "sandbox", "music", "bench")
TOP_LEVEL_MODULES = ("cli_errors", "cli_output", "genrebot_cli")
FIRST_PARTY = (*PACKAGES, *TOP_LEVEL_MODULES)

# The Discord layer: the only modules that may import discord.
DISCORD_LAYER = ("bot.discord_bot", "bot.cogs", "bot.presenters", "bot.choices", "bot.replies")


@dataclass(frozen=True)
class Rule:
    """Modules under `importers` must not import anything under `forbidden`, except `allowed`."""

    name: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    why: str
    allowed: tuple[str, ...] = ()
    exempt_importers: tuple[str, ...] = ()


RULES = (
    Rule("shared-records-are-leaves", ("music", "cli_errors", "cli_output"), FIRST_PARTY,
         "music (Track, LikedSong, PredictionLike), cli_errors (UsageError) and cli_output (staged, "
         "formula-safe output) are what every package shares, so they depend on none of ours",
         allowed=("music", "cli_errors")),
    Rule("classifier-is-self-contained", ("classifier",),
         ("pandas", "training", "storage", "bot", "sandbox", "discord"),
         "inference loads in the bot process: no pandas, no training code, no storage or Discord"),
    Rule("training-stays-offline", ("training",), ("bot", "storage", "sandbox", "discord"),
         "training runs offline on data files; it may use classifier, nothing of the bot"),
    Rule("storage-knows-no-callers", ("storage",),
         ("bot", "classifier", "training", "sandbox", "discord", "torch", "pandas"),
         "storage is the SQLite layer everyone uses; it never reaches back up, nor loads the model's or "
         "training's heavy libraries"),
    Rule("sandbox-is-only-spotify", ("sandbox",), ("bot", "storage", "classifier", "training", "discord"),
         "the Spotify stand-in must behave like Spotify, which knows nothing of genrebot"),
    Rule("spotify-client-is-only-spotify", ("bot.spotify",),
         ("discord", "storage", "classifier", "bot"),
         "the Spotify client (spotipy, blocking) knows neither Discord nor where tokens are kept",
         allowed=("bot.spotify",)),
    Rule("services-know-no-discord", ("bot.services",), ("discord", "bot"),
         "services serve the cogs, the demo and the CLI alike, so they know nothing of Discord",
         allowed=("bot.services", "bot.spotify", "bot.settings")),
    Rule("discord-only-in-the-discord-layer", FIRST_PARTY, ("discord",),
         f"only {', '.join(DISCORD_LAYER)} talk to Discord", exempt_importers=DISCORD_LAYER),
    Rule("cogs-are-loaded-not-imported", FIRST_PARTY, ("bot.cogs",),
         "cogs are extensions the bot loads by name; code they share lives outside bot/cogs",
         exempt_importers=("bot.cogs",)),
    Rule("sql-only-in-storage", FIRST_PARTY, ("sqlite3", "aiosqlite"),
         "storage is the only place with SQL", exempt_importers=("storage",)),
    Rule("torch-only-in-the-model", FIRST_PARTY, ("torch", "safetensors"),
         "torch runs in classifier (inference) and training; bench reports its version",
         exempt_importers=("classifier", "training", "bench")),
    Rule("nothing-imports-the-entry-points", FIRST_PARTY, ("genrebot_cli", "bench"),
         "genrebot_cli and bench sit on top: they import packages, packages never import them",
         exempt_importers=("genrebot_cli", "bench")),
)


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    line: int


def under(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def discover(root: Path) -> dict[str, Path]:
    """Module name -> file, for every first-party module under `root`."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    for name in TOP_LEVEL_MODULES:
        if (root / f"{name}.py").exists():
            modules[name] = root / f"{name}.py"
    return modules


def parse_source(path: Path) -> ast.Module:
    """The file's syntax tree. CPython 3.11 keeps the AST constructor's recursion count per
    interpreter, not per thread (python/cpython#106905, fixed in 3.12): a parse while another
    thread builds an AST (`inspect.signature` of a builtin does, for one; a worker thread an
    earlier test started may still be running) can fail with a spurious SystemError "recursion
    depth mismatch", seen once in an audit's run. It is parsed again; any other error is raised."""
    source = path.read_text(encoding="utf-8")
    for attempt in range(3):
        try:
            return ast.parse(source, str(path))
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def read_imports(module: str, path: Path, known: set[str]) -> Iterator[Import]:
    """Every import in the file, wherever it sits, resolved to a module name where it is ours."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(parse_source(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield Import(module, submodule if submodule in known else base, node.lineno)


def import_graph(root: Path = ROOT) -> list[Import]:
    modules = discover(root)
    known = set(modules)
    return [imp for name, path in modules.items() for imp in read_imports(name, path, known)]


def violations(rule: Rule, imports: Iterable[Import]) -> list[str]:
    return sorted({
        f"{imp.importer} (line {imp.line}) imports {imp.target}"
        for imp in imports
        if under(imp.importer, rule.importers)
        and not under(imp.importer, rule.exempt_importers)
        and under(imp.target, rule.forbidden)
        and not under(imp.target, rule.allowed)
    })


def cycles(imports: Iterable[Import], modules: set[str]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each as a sorted list."""
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports:
        if imp.target in modules and imp.target != imp.importer:
            edges[imp.importer].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_module_imports_another_that_imports_it_back() -> None:
    """No import cycle between our modules, counting deferred and TYPE_CHECKING imports."""
    found = cycles(import_graph(), set(discover(ROOT)))
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(group) for group in found)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule(rule: Rule) -> None:
    """No module breaks the rule (the rule's `why` says what it protects)."""
    found = violations(rule, import_graph())
    assert not found, f"{rule.why}:\n" + "\n".join(found)


def database_uses(path: Path) -> list[int]:
    """Lines that reach for a `.db` attribute (the storage handle)."""
    tree = parse_source(path)
    return sorted({n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "db"})


def test_the_discord_layer_reaches_storage_only_through_services() -> None:
    """Cogs, the command tree and the presenters call services, never the database handle."""
    found = [
        f"{name} line {line}"
        for name, path in discover(ROOT).items()
        if under(name, DISCORD_LAYER)
        for line in database_uses(path)
    ]
    assert not found, "the Discord layer uses storage directly:\n" + "\n".join(found)


def test_every_rule_names_modules_that_exist() -> None:
    """A rule about a renamed or deleted module would pass forever; each must name real code."""
    modules = discover(ROOT)
    ours = [
        prefix
        for rule in RULES
        for prefix in (*rule.importers, *rule.exempt_importers, *rule.allowed,
                       *(f for f in rule.forbidden if under(f, FIRST_PARTY)))
    ]
    missing = sorted({p for p in ours if not any(under(m, [p]) for m in modules)})
    assert not missing, f"rules name modules that do not exist: {missing}"


def test_the_reader_sees_deferred_and_type_checking_imports(tmp_path: Path) -> None:
    """A loop hidden in a function body or behind TYPE_CHECKING is still a cycle."""
    package = tmp_path / "bot"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from bot import b\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.a import f\n")
    (package / "c.py").write_text("from . import a\nimport discord\n\ndef f(services):\n    return services.db.users\n")
    imports = import_graph(tmp_path)
    assert cycles(imports, set(discover(tmp_path))) == [["bot.a", "bot.b"]]
    discord_rule = next(r for r in RULES if r.name == "discord-only-in-the-discord-layer")
    assert violations(discord_rule, imports) == ["bot.c (line 2) imports discord"]
    assert Import("bot.c", "bot.a", 1) in imports
    assert database_uses(package / "c.py") == [5]


def misplaced_test_files(root: Path = ROOT) -> list[str]:
    """Test files named after one of our packages (`tests/bot/services/test_sorting.py` beside the
    package `bot/services/sorting/`): left behind when the module they test became a package."""
    found = []
    for path in sorted((root / "tests").rglob("test_*.py")):
        subject = path.relative_to(root / "tests").with_name(path.stem.removeprefix("test_"))
        if (root / subject / "__init__.py").exists():
            found.append(f"{path.relative_to(root)}: its tests belong in tests/{subject.as_posix()}/")
    return found


def test_tests_mirror_the_packages_they_test() -> None:
    """A package's tests sit in its own folder under tests/, one file per module, never in a file
    named after the package beside it (where a reader looking for them does not look first)."""
    found = misplaced_test_files()
    assert not found, "tests/ does not mirror the source tree:\n" + "\n".join(found)


def test_the_mirror_check_sees_a_test_file_named_after_a_package(tmp_path: Path) -> None:
    """A module turned package with its tests left in test_<module>.py is found; its folder is not."""
    (tmp_path / "bot" / "sorting").mkdir(parents=True)
    (tmp_path / "bot" / "sorting" / "__init__.py").write_text("")
    (tmp_path / "bot" / "stats.py").write_text("")
    (tmp_path / "tests" / "bot" / "sorting").mkdir(parents=True)
    for test in ("test_sorting.py", "test_stats.py", "sorting/test_service.py"):
        (tmp_path / "tests" / "bot" / test).write_text("")
    assert misplaced_test_files(tmp_path) == [
        "tests/bot/test_sorting.py: its tests belong in tests/bot/sorting/"
    ]
