"""What an extract asks of a database, checked the same way for the `sql` and `odbc` connectors.

Table, query and cursor names come from the sources file: they are checked to be plain
identifiers before any SQL is written (and quoted when it is), and a cursor's high watermark is
the running maximum of the values read.
"""

from __future__ import annotations

import re

from connectors.errors import SourceError
from connectors.text import render_value

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")


def check_extract(
    *, table: str | None, query: str | None, cursor: str | None, batch_rows: int, source: str, stream: str
) -> list[str] | None:
    """Refuse a malformed request before any connection; returns the table's name parts (or None
    for a query)."""
    if (table is None) == (query is None):
        raise SourceError("give exactly one of table and query", source=source, stream=stream)
    if batch_rows < 1:
        raise SourceError(f"batch_rows must be positive, not {batch_rows}", source=source, stream=stream)
    parts = None
    if table is not None:
        parts = split_identifier(table, what="table", max_parts=2, source=source, stream=stream)
    elif not query.strip():
        raise SourceError("query is empty", source=source, stream=stream)
    if cursor is not None:
        split_identifier(cursor, what="cursor column", max_parts=1, source=source, stream=stream)
    return parts


def split_identifier(name: str, *, what: str, max_parts: int, source: str, stream: str) -> list[str]:
    parts = name.split(".")
    if len(parts) > max_parts or not all(IDENTIFIER.match(p) for p in parts):
        raise SourceError(
            f"{what} {name!r} is not a plain identifier"
            + (" (at most schema.table)" if max_parts > 1 else ""),
            source=source,
            stream=stream,
        )
    return parts


def pick_column(name: str, candidates: list[str]) -> str | None:
    """`name` itself if present, else its unique case-insensitive match (PostgreSQL folds
    unquoted names to lower case, Oracle-style systems to upper case)."""
    if name in candidates:
        return name
    folded = [c for c in candidates if c.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


class CursorMax:
    """Running maximum of cursor values from successive batches."""

    def __init__(self) -> None:
        self.value: object = None

    def offer(self, v: object) -> None:
        if v is None:
            return
        if self.value is None:
            self.value = v
            return
        try:
            bigger = v > self.value
        except TypeError:  # e.g. SQLite mixing integers and text in one column
            bigger = render_value(v) > render_value(self.value)
        if bigger:
            self.value = v
