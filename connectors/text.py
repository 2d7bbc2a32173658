"""Render typed values as text, the connectors' single output type.

Why text: every source column lands in the warehouse as text and is parsed
there with the field's declared format, so a connector must never guess a
type. Why one module: SQL results, file cells and the incremental watermark
must render identically, so that re-extracted rows compare equal and a
watermark can be bound back as the next `since`.

Rules: dates ``YYYY-MM-DD``; timestamps ``YYYY-MM-DD HH:MM:SS`` plus
``.ffffff`` only when fractional; timezone-aware timestamps become Beijing
wall-clock time without zone (the model's rule); numbers in plain notation
(never an exponent); booleans ``true``/``false``; bytes as hex; nested values
as compact JSON. NULL stays NULL.

`text_array` does this with pyarrow compute on typed Arrow arrays; `render_value`
is the same rule for one Python value (used where values arrive one by one,
and as the fallback for types Arrow cannot hold). Tests check the two agree.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

BEIJING = "Asia/Shanghai"
_BEIJING_TZ = ZoneInfo(BEIJING)


# Python types that pa.array converts natively and fast; anything else is rendered in Python.
# (Decimal is deliberately absent: format(d, "f") is faster than Arrow's decimal conversion
# and keeps the database's own scale, e.g. numeric(12,2) -> "1.50".)
ARROW_NATIVE = (str, bool, int, float, dt.date, dt.time)


# ---------------------------------------------------------------- Arrow arrays


def text_array(arr: pa.Array) -> pa.Array:
    """A `pa.string()` array with the text of each value of `arr` (NULL stays NULL)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return text_array(arr.dictionary_decode())
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.string())
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return arr.cast(pa.string())
    if pa.types.is_boolean(t) or pa.types.is_integer(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        # Arrow prints 1e+20 / 1E-8 for some values: redo just those columns in Python.
        out = pc.cast(arr, pa.string())
        if pc.any(pc.match_substring(out, "e", ignore_case=True)).as_py():
            return _python_text(arr)
        return out
    if pa.types.is_date(t):
        return pc.cast(arr.cast(pa.date32()), pa.string())
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            arr = pc.local_timestamp(arr.cast(pa.timestamp(t.unit, tz=BEIJING)))
        out = pc.cast(arr.cast(pa.timestamp("us"), safe=False), pa.string())
        return pc.replace_substring_regex(out, r"\.0+$", "")
    if pa.types.is_time(t):
        out = pc.cast(arr.cast(pa.time64("us"), safe=False), pa.string())
        return pc.replace_substring_regex(out, r"\.0+$", "")
    # binary, durations, nested and anything exotic: rare, render value by value.
    return _python_text(arr)


def _python_text(arr: pa.Array) -> pa.Array:
    return pa.array([render_value(v) for v in arr.to_pylist()], pa.string())


def fetched_column(values: Sequence[object]) -> tuple[pa.Array, pa.Array | None]:
    """Text array for one column of fetched Python values, plus the typed Arrow array when
    there is one."""
    first = next((v for v in values if v is not None), None)
    if first is None:
        return pa.nulls(len(values), pa.string()), None
    if isinstance(first, ARROW_NATIVE):
        try:
            typed = pa.array(values, type=pa.string() if isinstance(first, str) else None)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            typed = None  # mixed types (SQLite), ints beyond int64, …
        if typed is not None and not pa.types.is_nested(typed.type):
            return text_array(typed), typed
    if isinstance(first, Decimal):  # the common non-native type: skip render_value's dispatch
        return pa.array(
            [format(v, "f") if type(v) is Decimal else render_value(v) for v in values], pa.string()
        ), None
    return pa.array([render_value(v) for v in values], pa.string()), None


def text_batch(names: list[str], columns: list[pa.Array]) -> pa.RecordBatch:
    """A record batch of text columns (each column converted with `text_array`)."""
    return pa.RecordBatch.from_arrays([text_array(c) for c in columns], names=names)


def strings_batch(names: list[str], columns: list[list[str | None]]) -> pa.RecordBatch:
    """A record batch from per-column lists of already rendered strings."""
    return pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names=names)


def empty_batch(names: list[str]) -> pa.RecordBatch:
    """Zero rows, the given text columns: lets a caller see the columns of an empty source."""
    return strings_batch(names, [[] for _ in names])


def rechunk(batches: Iterable[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly `size` rows (the last one shorter), zero-copy where possible."""
    held: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            take = min(size - count, batch.num_rows - offset)
            held.append(batch.slice(offset, take))
            count += take
            offset += take
            if count == size:
                yield held[0] if len(held) == 1 else pa.concat_batches(held)
                held, count = [], 0
    if held:
        yield held[0] if len(held) == 1 else pa.concat_batches(held)


def slices(batch: pa.RecordBatch, batch_rows: int):
    """Yield zero-copy slices of `batch` of at most `batch_rows` rows."""
    for offset in range(0, batch.num_rows, batch_rows):
        yield batch.slice(offset, batch_rows)


# ---------------------------------------------------------------- Python values


def render_value(v: object) -> str | None:
    """The text of one Python value, by the module's rules."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return float_text(v)
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dt.datetime):
        return datetime_text(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.replace(tzinfo=None).isoformat()
    if isinstance(v, dt.timedelta):
        return duration_text(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, (dict, list, tuple)):
        return json_text(v)
    return str(v)  # uuid.UUID, ipaddress, …


def float_text(v: float) -> str:
    """Shortest round-trip text, without exponent; integral values without '.0'."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v.is_integer():
        return str(int(v))
    r = repr(v)
    return format(Decimal(r), "f") if "e" in r else r


def datetime_text(v: dt.datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS[.ffffff]``; aware values converted to Beijing wall-clock."""
    if v.tzinfo is not None and v.utcoffset() is not None:
        v = v.astimezone(_BEIJING_TZ)
    return v.replace(tzinfo=None).isoformat(sep=" ")


def duration_text(v: dt.timedelta) -> str:
    """``[-]HH:MM:SS[.ffffff]`` with hours beyond 24 (how MySQL shows TIME)."""
    us = (v.days * 86_400 + v.seconds) * 1_000_000 + v.microseconds
    sign = "-" if us < 0 else ""
    seconds, micro = divmod(abs(us), 1_000_000)
    hours, rest = divmod(seconds, 3600)
    text = f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{text}.{micro:06d}" if micro else text


def json_text(v: object) -> str:
    """Compact JSON that keeps Chinese readable and Decimals exact (json.dumps can't)."""
    if v is None or isinstance(v, (bool, str)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return json.dumps(v)
    if isinstance(v, Decimal):
        return str(v) if v.is_finite() else json.dumps(str(v))
    if isinstance(v, dict):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}:{json_text(x)}" for k, x in v.items())
        return "{" + ",".join(items) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(json_text(x) for x in v) + "]"
    return json.dumps(render_value(v), ensure_ascii=False)
