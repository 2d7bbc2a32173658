"""JSON Lines files (one object per line) as text record batches.

Why line by line with the json module: memory stays at one batch, and a bad
line can be reported by its number. Numbers are parsed as Decimal so their
text is kept exactly ('1.10' stays '1.10', no float rounding); nested objects
and arrays become compact JSON text.

Columns are the keys seen so far in the file, in first-seen order; a row
without a key has NULL there. A later batch can therefore have more columns
than an earlier one, never fewer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from connectors.errors import SourceError
from connectors.text import json_text, render_value, strings_batch


def _text(v: object) -> str | None:
    return json_text(v) if isinstance(v, (dict, list)) else render_value(v)


def iter_jsonl(
    path: Path, *, source: str, stream: str, encoding: str, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Yield the objects of a JSON Lines file as text batches; blank lines are skipped."""
    where = {"source": source, "stream": stream, "path": path}
    codec = "utf-8" if encoding in ("utf-8", "utf-8-sig") else encoding
    names: dict[str, None] = {}  # ordered set
    rows: list[dict[str, str | None]] = []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode(codec)
            except UnicodeDecodeError:
                raise SourceError(
                    f"text is not valid {encoding} (check the declared encoding)", **where, line=number
                ) from None
            if number == 1:
                line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                raise SourceError(
                    f"invalid JSON at column {exc.colno}: {exc.msg}", **where, line=number
                ) from None
            if not isinstance(obj, dict):
                raise SourceError(f"expected a JSON object, found {type(obj).__name__}", **where, line=number)
            for key in obj:
                names.setdefault(key)
            rows.append({key: _text(v) for key, v in obj.items()})
            if len(rows) == batch_rows:
                yield _batch(names, rows)
                rows = []
    if rows:
        yield _batch(names, rows)


def _batch(names: dict[str, None], rows: list[dict[str, str | None]]) -> pa.RecordBatch:
    keys = list(names)
    return strings_batch(keys, [[row.get(k) for row in rows] for k in keys])
