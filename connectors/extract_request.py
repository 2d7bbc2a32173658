"""What an extract asks of a database, checked the same way for the `sql` and `odbc` connectors.

Table, query and cursor names come from the sources file: they are checked to be plain
identifiers before any SQL is written (and quoted when it is), and a cursor's high watermark is
the running maximum of the values read. `Extract` holds what both connectors' extracts keep.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from connectors.errors import SourceError
from connectors.text import fetched_column, render_value

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

    def offer_column(self, values: Sequence[object], typed: pa.Array | None) -> None:
        """A fetched column's values: the typed array's maximum when there is one, else each value
        (NaN, which compares with nothing, is left out)."""
        if typed is not None:
            self.offer(pc.max(typed).as_py())
            return
        for v in values:
            if not ((isinstance(v, Decimal) and v.is_nan()) or (isinstance(v, float) and math.isnan(v))):
                self.offer(v)


class Extract:
    """What the sql and odbc extracts share: the request, the result's column names, the
    high watermark, and fetched rows turned into text batches."""

    def __init__(
        self,
        *,
        source: str,
        stream: str,
        table: list[str] | None,
        query: str | None,
        cursor: str | None,
        since: str | None,
        batch_rows: int,
        retry_delays: Sequence[float],
    ) -> None:
        self.source = source
        self.stream = stream
        self._table = table
        self._query = query
        self._cursor = cursor
        self.since = since
        self.batch_rows = batch_rows
        self.retry_delays = tuple(retry_delays)
        self.high_watermark: str | None = None
        self.columns: list[str] | None = None

    @property
    def what(self) -> str:
        return f"table {'.'.join(self._table)}" if self._table else "query"

    def _error(self, detail: str) -> SourceError:
        return SourceError(detail, source=self.source, stream=self.stream)

    def _result_columns(self, names: list[str]) -> int | None:
        """Check the result's column names; the position of the cursor column (None: no cursor)."""
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise self._error(f"{self.what} returns duplicate column names {dupes}")
        self.columns = names
        if self._cursor is None:
            return None
        found = pick_column(self._cursor, names)
        if found is None:
            raise self._error(f"cursor column {self._cursor!r} is not among the columns of {self.what}")
        return names.index(found)


def rows_batch(rows: Sequence[Sequence[object]], names: list[str], cursor_at: int | None, top: CursorMax) -> pa.RecordBatch:
    """Fetched rows (tuples) as a batch of text columns; the cursor column's values go to `top`,
    typed, before rendering (text order is not value order)."""
    texts = []
    for i, values in enumerate(zip(*rows)):
        text, typed = fetched_column(values)
        texts.append(text)
        if i == cursor_at:
            top.offer_column(values, typed)
    return pa.RecordBatch.from_arrays(texts, names=names)
