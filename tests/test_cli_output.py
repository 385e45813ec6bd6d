"""cli_output: a SIGTERM while output is staged removes what was staged, then ends the process by
that signal (a real child process signals itself while a file or a folder is half written)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

STAGE_THEN_TERMINATE = """
import os, signal, sys
from pathlib import Path
from cli_output import Terminated, end_by_sigterm, staged_directory, staged_file

target = Path(sys.argv[1])
try:
    if sys.argv[2] == "file":
        with staged_file(target, flag="--output", force=False) as partial:
            partial.write_text("half written")
            os.kill(os.getpid(), signal.SIGTERM)
            while True:  # the signal's handler raises here, at the next instruction
                pass
    else:
        with staged_directory(target, flag="--output", force=False) as staged:
            (staged.path / "Rock.csv").write_text("half written")
            os.kill(os.getpid(), signal.SIGTERM)
            while True:
                pass
except Terminated:
    end_by_sigterm()
"""


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_sigterm_while_output_is_staged_leaves_nothing_behind_and_ends_by_the_signal(tmp_path: Path, kind: str) -> None:
    """`kill` (SIGTERM) during a write: no output, no hidden partial file or staging folder, and the
    process is reported killed by SIGTERM, as if nothing had been staged."""
    out = tmp_path / "out"
    out.mkdir()
    target = out / ("predictions.csv" if kind == "file" else "sorted")
    result = subprocess.run([sys.executable, "-c", STAGE_THEN_TERMINATE, str(target), kind],
                            capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[1])
    assert result.returncode == -signal.SIGTERM, result.stderr
    assert list(out.iterdir()) == []


def test_outside_staging_sigterm_is_left_as_it_was(tmp_path: Path) -> None:
    """The handler is only there while output is staged: afterwards SIGTERM's own handling is back."""
    code = ("import signal; from pathlib import Path; import sys\n"
            "from cli_output import staged_file\n"
            "with staged_file(Path(sys.argv[1]), flag='--output', force=False) as p: p.write_text('x')\n"
            "print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "o.csv")], capture_output=True, text=True,
                            timeout=60, cwd=Path(__file__).parents[1])
    assert result.stdout.strip() == "True" and (tmp_path / "o.csv").read_text() == "x"
