"""Checks shared by the file readers: header names, and where a decoding error is.

Why: a bad header (empty or repeated column name) would make the field
mapping ambiguous, and "invalid UTF-8 data" without a line number leaves the
sender guessing; both deserve a message that points at the spot.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from connectors.errors import SourceError


def clean_header(raw: list[str], *, source: str, stream: str, path: Path) -> list[str]:
    """Header names with surrounding whitespace and any BOM removed; empty or repeated names fail."""
    names = [str(n).replace("\ufeff", "").strip() for n in raw]
    for i, name in enumerate(names, start=1):
        if not name:
            raise SourceError(
                f"header column {i} has no name", source=source, stream=stream, path=path, line=1
            )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SourceError(
                f"header repeats column name {name!r}", source=source, stream=stream, path=path, line=1
            )
        seen.add(name)
    return names


def first_undecodable_line(path: Path, encoding: str) -> int | None:
    """1-based number of the first line that is not valid `encoding`, or None.

    Splitting on b"\\n" is safe for UTF-8, GBK and GB18030: byte 0x0A is never
    part of a multi-byte character in them.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    number = 0
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError:
                return number
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return number
    return None
