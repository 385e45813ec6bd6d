"""A first look at an input file before pandas reads it: what it is, and how to read it.

A user hands `sort`, `predict`, `train` and `evaluate` whatever file they have: an empty export, a
screenshot, a spreadsheet saved with semicolons by a European Excel, a Windows-1252 file. This
module reads the first bytes and either says how to read the file (encoding, delimiter,
compression) or says in one line, in the user's words, why it is not a CSV it can use.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 256 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# What people hand us instead of a CSV, by the bytes files of that kind start with.
NOT_CSV = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (.xlsx): save or export it as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel or Word file (.xls/.doc): save it as CSV"),
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"{\\rtf", "an RTF document"),
)
DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class InputFileError(ValueError):
    """The file cannot be read as a CSV; the message says why in one line."""


@dataclass(frozen=True)
class CsvLayout:
    """How to read the file: what pandas.read_csv needs, and what a user may want to know."""

    encoding: str  # "utf-8-sig", "utf-8" or "cp1252"
    delimiter: str
    compression: str | None  # "gzip" or None

    @property
    def notes(self) -> list[str]:
        """Anything unusual that was read anyway (for the cleaning report)."""
        notes = []
        if self.encoding == "cp1252":
            notes.append("read as Windows-1252: the file is not UTF-8")
        if self.delimiter != ",":
            notes.append(f"read as {DELIMITER_NAMES[self.delimiter]}-separated")
        return notes


def inspect_csv(path: Path) -> CsvLayout:
    """How to read `path` as a CSV, or InputFileError saying in the user's words why it is not one."""
    if not path.exists():
        raise InputFileError(f"no such file: {path}")
    if path.is_dir():
        raise InputFileError(f"{path} is a directory, not a CSV file")
    try:
        with path.open("rb") as handle:
            raw = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror}") from None
    compression = None
    if raw.startswith(GZIP_MAGIC):
        compression = "gzip"
        raw = _gunzipped_head(path)
    if not raw.strip():
        raise InputFileError(f"{path} is empty: export your playlist or Liked Songs again")
    for magic, what in NOT_CSV:
        if raw.startswith(magic):
            raise InputFileError(f"{path} looks like {what}, not a CSV file")
    if b"\x00" in raw[:4096]:
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise InputFileError(f"{path} is UTF-16 text: save it as UTF-8 CSV")
        raise InputFileError(f"{path} looks like a binary file, not a CSV file")
    encoding = _encoding(raw)
    text = raw.decode(encoding, errors="replace")
    return CsvLayout(encoding, _delimiter(text), compression)


def _gunzipped_head(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error):
        raise InputFileError(f"{path} is a damaged gzip file") from None


def _encoding(raw: bytes) -> str:
    """UTF-8 (with or without its BOM) when the head decodes as UTF-8, else Windows-1252."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 3:  # a character cut at the end of the head, not a wrong encoding
            return "utf-8"
        return "cp1252"


def _delimiter(text: str) -> str:
    """The separator that splits the header line into the most columns; a comma when none does better.

    Only the header is used: data rows legitimately hold other separators (the Kaggle layout's
    artists are `;`-joined inside comma-separated rows), header names do not.
    """
    header = next(iter(text.splitlines()), "")
    widths = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (widths[d], d == ","))
    return best if widths[best] > 1 else ","


def text_encoding(path: Path, layout: CsvLayout) -> str:
    """The encoding the whole file decodes in (read in blocks), so a chunked reader can choose it
    before the first chunk instead of failing half-way through: the layout's own when the file is
    UTF-8 throughout, else Windows-1252; InputFileError when neither reads it (a Shift-JIS or
    Windows-1251 export has bytes Windows-1252 leaves undefined: read anyway, every title would be
    garbled in the files written back)."""
    if layout.encoding != "cp1252" and _decodes(path, layout, "utf-8"):
        return layout.encoding
    if _decodes(path, layout, "cp1252"):
        return "cp1252"
    raise InputFileError(f"{path} is neither UTF-8 nor Windows-1252 text: save it as UTF-8 CSV")


def _decodes(path: Path, layout: CsvLayout, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for block in file_blocks(path, layout):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def file_blocks(path: Path, layout: CsvLayout) -> Iterator[bytes]:
    """The file's bytes, uncompressed, a MiB at a time; InputFileError for a gzip file that is cut
    short or damaged past the head `inspect_csv` looked at."""
    opener = gzip.open if layout.compression == "gzip" else open
    try:
        with opener(path, "rb") as handle:  # type: ignore[operator]
            while block := handle.read(1 << 20):
                yield block
    except (EOFError, zlib.error, gzip.BadGzipFile):
        raise InputFileError(f"{path} is a damaged gzip file") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def file_sha256(path: Path) -> str:
    """The file's sha256, read in blocks (a 200 MB export is never held in memory for it)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
