"""Writing a command's results where the user asked, without ever losing what was there.

Three rules every `genrebot` command that writes files follows:
- Refuse before working: an output path that holds something genrebot did not write is never
  replaced; what an earlier genrebot run wrote is replaced only with `--force`.
- Stage, then move into place: files are written beside the target and renamed into it once all
  of them are complete, so a failed write leaves the target as it was. A SIGTERM while output is
  staged (`kill`, a service manager stopping the job) removes what was staged, as Ctrl-C does,
  and then ends the process by that signal (`Terminated`, `end_by_sigterm`).
- Neutralise spreadsheet formulas (OWASP's CSV-injection rule) in every CSV cell we write.

A leaf module: each package's `cli.py` uses it; it imports none of ours.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cli_errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

# OWASP: a cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number such as Exportify's loudness "-5.883" is data, not a formula: it stays as it is.
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# What marks a directory written by `genrebot sort --csv`: the files it wrote, so a later run
# with --force replaces exactly those.
SORT_MANIFEST = ".genrebot-sort.json"


def neutralise_formula_cell(value: object) -> object:
    """`=HYPERLINK(...)` -> `'=HYPERLINK(...)`: shown as text, never run; numbers and the rest unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_formula_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell and header passed through `neutralise_formula_cell`.

    Vectorised: only the columns holding a risky cell are touched, and the frame is copied only then.
    """
    from pandas.api.types import is_object_dtype, is_string_dtype

    risky_columns = []
    for column in frame.columns:
        values = frame[column]
        if is_object_dtype(values) or is_string_dtype(values):
            if values.astype(str).str.startswith(FORMULA_STARTS).any():
                risky_columns.append(column)
    risky_header = any(isinstance(c, str) and neutralise_formula_cell(c) != c for c in frame.columns)
    if not risky_columns and not risky_header:
        return frame
    safe = frame.copy()
    for column in risky_columns:
        safe[column] = safe[column].astype(object).map(neutralise_formula_cell)
    if risky_header:
        safe.columns = [neutralise_formula_cell(c) for c in safe.columns]
    return safe


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@dataclass(frozen=True)
class Owned:
    """What an earlier genrebot run left at a path: its own files, and how to call it in a message."""

    what: str  # "a genrebot model", "an earlier genrebot sort"
    files: frozenset[str]


def check_replaceable(target: Path, *, flag: str, force: bool, owned: Callable[[Path], Owned | None]) -> None:
    """UsageError unless `target` is absent, an empty directory, or (with `force`) what genrebot wrote there.

    `owned(target)` says whether an existing directory is genrebot's own work, and which files are
    its own: a directory holding anything else is never replaced, even with `force`.
    """
    for parent in target.parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"{flag} {target}: {parent} is a file, not a directory")
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise UsageError(f"{flag} {target} is a file, not a directory: choose a new directory")
    entries = sorted(p.name for p in target.iterdir())
    if not entries:
        return
    ours = owned(target)
    if ours is None:
        shown = ", ".join(entries[:3]) + (", …" if len(entries) > 3 else "")
        raise UsageError(f"{flag} {target} already holds files genrebot did not write ({shown}): "
                         "choose a new or empty directory")
    others = sorted(set(entries) - ours.files)
    if others:
        shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
        raise UsageError(f"{flag} {target} holds {ours.what} and files genrebot did not write ({shown}): "
                         "move them away or choose a new directory")
    if not force:
        raise UsageError(f"{flag} {target} already holds {ours.what}: pass --force to replace it")


def sort_run_in(directory: Path) -> Owned | None:
    """The files an earlier `genrebot sort --csv` wrote in `directory`, from its manifest."""
    try:
        listed = json.loads((directory / SORT_MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(listed, list) or not all(isinstance(n, str) and "/" not in n for n in listed):
        return None
    return Owned("an earlier genrebot sort", frozenset([*listed, SORT_MANIFEST]))


@dataclass
class StagedDirectory:
    """Files written into `path` (a fresh directory beside the target) until they all exist."""

    target: Path
    path: Path
    written: list[str] = field(default_factory=list)

    def file(self, name: str) -> Path:
        """Where to write `name`; remembered as written."""
        if "/" in name or name in ("", ".", "..", SORT_MANIFEST):
            raise ValueError(f"not a plain file name: {name!r}")
        self.written.append(name)
        return self.path / name


class Terminated(BaseException):
    """SIGTERM arrived while output was staged. Raised where the program stood, so every `finally`
    on the way out removes what it staged; the command's caller then calls `end_by_sigterm`."""


def _raise_terminated(_signal: int, _frame: object) -> None:
    raise Terminated()


@contextmanager
def sigterm_cleans_up() -> Iterator[None]:
    """While output is staged, SIGTERM raises `Terminated` instead of ending the process where it
    stands, which would leave the staged file or folder behind. Python runs signal handlers in the
    main thread only: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def end_by_sigterm() -> None:
    """End the process by SIGTERM, as it would have ended had nothing been staged: whoever sent it
    sees the process killed by that signal, not an exit status of its own."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


@contextmanager
def staged_directory(target: Path, *, flag: str, force: bool,
                     owned: Callable[[Path], Owned | None] = sort_run_in) -> Iterator[StagedDirectory]:
    """Write into a staging directory; on success, replace the target's earlier genrebot files with them.

    On any failure the staging directory is removed and the target is left exactly as it was.
    """
    check_replaceable(target, flag=flag, force=force, owned=owned)
    parent = target.absolute().parent
    with sigterm_cleans_up():
        try:
            parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.genrebot-", dir=parent))
        except OSError as exc:
            raise UsageError(f"cannot write to {flag} {target}: {exc.strerror}") from None
        staged = StagedDirectory(target, staging)
        try:
            yield staged
            (staging / SORT_MANIFEST).write_text(json.dumps({"files": staged.written}, ensure_ascii=False),
                                                 encoding="utf-8")
            _move_into_place(staged, owned)
        except OSError as exc:
            raise UsageError(f"cannot write to {flag} {target}: {exc.strerror or exc}; "
                             "nothing was changed there") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(staged: StagedDirectory, owned: Callable[[Path], Owned | None]) -> None:
    target = staged.target
    mask = _umask()
    for name in staged.written:
        os.chmod(staged.path / name, 0o666 & ~mask)  # as if written in place, not mkdtemp's 0600
    os.chmod(staged.path / SORT_MANIFEST, 0o666 & ~mask)
    if not target.exists():
        os.chmod(staged.path, 0o777 & ~mask)
        os.replace(staged.path, target)
        return
    earlier = owned(target)
    earlier_files = earlier.files - {SORT_MANIFEST} if earlier else frozenset()
    # First a manifest naming both runs' files (the earlier one was unlinked here before, first of
    # all): a move stopped half-way (Ctrl-C, a crash) leaves a directory the next --force run
    # still knows as genrebot's own and replaces whole, never one it must refuse.
    both = staged.path / f"{SORT_MANIFEST}.both"
    both.write_text(json.dumps({"files": sorted(earlier_files | set(staged.written))}, ensure_ascii=False),
                    encoding="utf-8")
    os.chmod(both, 0o666 & ~mask)
    os.replace(both, target / SORT_MANIFEST)
    for name in sorted(earlier_files - set(staged.written)):
        (target / name).unlink(missing_ok=True)
    for name in [*staged.written, SORT_MANIFEST]:
        os.replace(staged.path / name, target / name)


def check_writable_file(target: Path, *, flag: str, force: bool) -> None:
    """UsageError unless `target` is a new file name, or (with `force`) an existing file to replace."""
    if target.is_dir():
        raise UsageError(f"{flag} {target} is a directory; give a file name")
    if (target.exists() or target.is_symlink()) and not force:
        raise UsageError(f"{flag} {target} already exists: pass --force to replace it")
    for parent in target.parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"{flag} {target}: {parent} is a file, not a directory")


@contextmanager
def written_whole(target: Path) -> Iterator[Path]:
    """A temporary path beside `target` to write (its extension kept, for writers that go by it);
    renamed onto `target` when the block ends, removed if it raises. `target` holds what it held or
    the whole new file, never a half-written one, whatever stops the write (disk full, kill, crash)."""
    target = target.absolute()
    # Named before it is made, and made inside the `try` (0666 less the umask, as if written in
    # place): once the file exists its removal is sure, even when a SIGTERM lands right after.
    temporary = target.with_name(f".{target.stem}.{secrets.token_hex(8)}.partial{target.suffix}")
    try:
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def staged_file(target: Path, *, flag: str, force: bool) -> Iterator[Path]:
    """A temporary path beside `target`, renamed onto it once written; an existing file needs `force`."""
    check_writable_file(target, flag=flag, force=force)
    with sigterm_cleans_up(), ExitStack() as staging:
        try:
            target.absolute().parent.mkdir(parents=True, exist_ok=True)
            temporary = staging.enter_context(written_whole(target))
        except OSError as exc:
            raise UsageError(f"cannot write {flag} {target}: {exc.strerror}") from None
        try:
            yield temporary
            staging.close()  # renamed into place
        except OSError as exc:
            raise UsageError(f"cannot write {flag} {target}: {exc.strerror or exc}; "
                             "nothing was changed there") from None
