"""The PostgreSQL fast path of `connectors.sql.read_sql`: ADBC (libpq, binary COPY) into Arrow.

Why: the ADBC PostgreSQL driver runs a query as ``COPY (…) TO STDOUT (FORMAT binary)``
and decodes the stream straight into Arrow record batches, so no Python object is
made per value. Measured here on 1,000,000 case rows × 12 columns (see
/work/shared/notes/stack.md and the benchmark in tests/test_connectors_sql_adbc.py):
several times faster than SQLAlchemy + psycopg, with a fraction of the memory.

Contract: exactly the SQLAlchemy path's (same SQL from `SqlExtract.resolve`, same
text, same batch sizes, same `high_watermark`, same SourceError messages and
retries). Each Arrow batch from `fetch_record_batch()` is rendered to text column
by column with pyarrow compute (`connectors.text.text_array`), then re-cut into
batches of exactly `batch_rows` rows. Where ADBC's Arrow differs from what psycopg
returns, it is corrected here:

- numeric arrives as an opaque string extension: its storage is already the text
  with the column's scale ("1.50"); only NaN / ±Infinity are spelled as Python's
  Decimal spells them ("NaN", "Infinity", "-Infinity").
- timestamptz arrives in UTC (with the zone): `text_array` converts it to Beijing
  wall-clock, as the SQLAlchemy path does with psycopg's aware datetimes.
- real (float4) arrives as float32: rendered through its shortest float32 text,
  which is what psycopg parses.
- char(n) keeps its trailing spaces on both paths.

Column types whose ADBC form would render differently (json/jsonb, interval,
money, oid, inet, enums, arrays, ranges, geometric, bit, xml, …) are not guessed
at: before any row is read the result's schema is checked, and the extract raises
`Declined`, on which `SqlExtract` falls back to SQLAlchemy (or fails, when the
caller forced engine="adbc").

`since` is written into the SQL as a quoted literal, not bound as $1: with a bound
parameter the driver cannot use COPY and runs the statement with PQexecPrepared,
which buffers the whole result in libpq and returns it as one batch (measured:
1,000,000 rows came back as 1 batch with 683 MB peak RSS, against 11 streamed
batches and 168 MB through COPY). An untyped literal also has the SQLAlchemy
path's semantics exactly (psycopg sends the bound string with type "unknown", so
PostgreSQL casts it to the cursor column's type; ADBC would declare $1 as text and
`timestamp > text` has no operator). Quoting follows libpq's PQescapeLiteral.
"""

from __future__ import annotations

import atexit
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL

from connectors.errors import SourceError
from connectors.extract_request import CursorMax
from connectors.sql import CONNECT_TIMEOUT_S, _scrub, mask_url
from connectors.text import BEIJING, empty_batch, float_text, rechunk, render_value, text_array

if TYPE_CHECKING:
    from connectors.sql import SqlExtract

_PREP = postgresql.dialect().identifier_preparer  # the same quoting as the psycopg dialect
_PG_TYPE = b"POSTGRESQL:type"


class Declined(Exception):
    """The ADBC path will not read this result (raised before any batch is yielded)."""


@lru_cache(maxsize=1)
def _dbapi():
    from adbc_driver_postgresql import dbapi  # ~0.5 s: pulls in pyarrow.dataset

    return dbapi


# ---------------------------------------------------------------- URL, connection, messages


def libpq_uri(url: URL) -> str:
    """The libpq connection URI for a SQLAlchemy PostgreSQL URL (any driver suffix dropped):
    user, password, host, port, database and query parameters kept, percent-encoded."""
    netloc = ""
    if url.username is not None:
        netloc = quote(str(url.username), safe="")
        if url.password is not None:
            netloc += ":" + quote(str(url.password), safe="")
        netloc += "@"
    if url.host:
        host = url.host
        netloc += f"[{host}]" if ":" in host and not host.startswith("[") else quote(host, safe="[]")
    if url.port is not None:
        netloc += f":{url.port}"
    uri = f"postgresql://{netloc}/{quote(url.database or '', safe='')}"
    params = dict(url.query)
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))  # as the SQLAlchemy path sets it
    pairs = []
    for key, value in params.items():
        text = ",".join(value) if isinstance(value, tuple) else str(value)  # host=a&host=b -> a,b
        pairs.append(f"{quote(str(key), safe='')}={quote(text, safe='')}")
    return uri + "?" + "&".join(pairs)


_ADBC_STATUS = re.compile(r"^[A-Z_]+: ")  # "IO: ", "NOT_FOUND: ", … prefixed by the driver manager


def driver_message(exc: BaseException, url: URL) -> str:
    """The first line of what PostgreSQL / libpq said, worded as psycopg words it (the
    SQLAlchemy path's messages), without ADBC's status prefix; password scrubbed."""
    details = {}
    for key, value in getattr(exc, "details", None) or []:
        k = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        details[k] = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = details.get("PG_DIAG_MESSAGE_PRIMARY")
    if not text:
        text = _ADBC_STATUS.sub("", str(exc).strip())
        text = re.sub(r"^\[libpq\] Failed to connect: ", "connection failed: ", text)
        text = re.sub(r"^\[libpq\] ", "", text)
        lines = [ln for ln in text.splitlines() if ln.strip()]
        text = lines[0].strip() if lines else type(exc).__name__
        if not text.startswith("connection failed: "):
            # "Failed to prepare query: ERROR:  …", "Execution error [PGRES_FATAL_ERROR]: ERROR:  …"
            text = re.sub(r"^.*?\bERROR:\s+", "", text)
    if url.password and len(str(url.password)) >= 3:  # the URI carries it percent-encoded
        text = text.replace(quote(str(url.password), safe=""), "***")
    return _scrub(text, url)


def _connect(ex: SqlExtract):
    """Connect with the extract's retries; the same SourceError as the SQLAlchemy path."""
    dbapi = _dbapi()
    uri = libpq_uri(ex.url)
    delays = ex.retry_delays
    attempts = len(delays) + 1
    for attempt in range(attempts):
        try:
            return dbapi.connect(uri, autocommit=True)
        except dbapi.Error as exc:
            if attempt + 1 < attempts:
                time.sleep(delays[attempt])
                continue
            msg = driver_message(exc, ex.url)
            # `from None`: the chained driver exception is not scrubbed.
            raise SourceError(
                f"cannot connect to {mask_url(ex.url)} after {attempts} attempts: {msg}", source=ex.source
            ) from None
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- idle connections
#
# Why: opening an ADBC PostgreSQL connection costs about 45 ms here (libpq, then the driver's
# reading of the server's type catalogue): a third of an hourly run's 10,000-row extraction.
# A connection that finished a read cleanly is parked, one per database, for the process's next
# read of it (the next stream of the same source); `hub run` also opens one in advance while
# Dagster sets the run up (`open_in_advance`). A parked connection is used only if it is recent
# and still answers; otherwise a new one is opened, so reuse never changes what a read returns.

IDLE_SECONDS = 60.0
_idle: dict[str, tuple[Any, float]] = {}  # libpq URI → (connection, parked at, monotonic)
_idle_lock = threading.Lock()


def _park(uri: str, conn) -> None:
    with _idle_lock:
        old = _idle.pop(uri, None)
        _idle[uri] = (conn, time.monotonic())
    if old is not None:
        _close_quietly(old[0])


def _unpark(uri: str):
    with _idle_lock:
        parked = _idle.pop(uri, None)
    if parked is None:
        return None
    conn, since = parked
    if time.monotonic() - since > IDLE_SECONDS:
        _close_quietly(conn)
        return None
    return conn


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - a dead connection: nothing to release
        pass


@atexit.register
def close_idle_connections() -> None:
    with _idle_lock:
        parked = list(_idle.values())
        _idle.clear()
    for conn, _ in parked:
        _close_quietly(conn)


def open_in_advance(url: URL) -> None:
    """Open a connection to `url` and park it for the next read (errors are left to that read,
    which reports them with its retries)."""
    try:
        conn = _dbapi().connect(libpq_uri(url), autocommit=True)
    except Exception:  # noqa: BLE001 - see above
        return
    _park(libpq_uri(url), conn)


def _session(ex: SqlExtract, dbapi) -> tuple[Any, Any]:
    """(connection, cursor) in Beijing time: a parked connection that still answers, else a new one."""
    uri = libpq_uri(ex.url)
    conn = _unpark(uri)
    if conn is not None:
        try:
            cur = conn.cursor()
            cur.execute(f"SET TIME ZONE '{BEIJING}'")
            return conn, cur
        except dbapi.Error:
            _close_quietly(conn)  # closed by the server meanwhile: open a new one
    conn = _connect(ex)
    try:
        cur = conn.cursor()
        cur.execute(f"SET TIME ZONE '{BEIJING}'")
    except dbapi.Error as exc:
        _close_quietly(conn)
        raise ex._error(f"cannot read {ex.what} from {mask_url(ex.url)}: {driver_message(exc, ex.url)}") from exc
    return conn, cur


def pg_literal(value: str) -> str:
    """A PostgreSQL string literal for `value`, as libpq's PQescapeLiteral writes it: quotes
    doubled, and an E'' literal with doubled backslashes when there is a backslash (safe
    whatever standard_conforming_strings says). The session's client encoding is UTF8."""
    if "\x00" in value:
        raise ValueError("a PostgreSQL string cannot contain NUL characters")
    body = value.replace("'", "''")
    if "\\" in body:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


class _AdbcCatalog:
    """`connectors.sql.Catalog` over an ADBC cursor: the queries SQLAlchemy's PostgreSQL
    inspector runs for get_table_names + get_view_names and get_columns."""

    def __init__(self, cur, dbapi) -> None:
        self.cur = cur
        self.errors = (dbapi.Error,)
        self._oids: dict[str, int] = {}

    def relations(self, schema: str | None) -> list[str]:
        if schema is None:
            where = "pg_catalog.pg_table_is_visible(c.oid) AND n.nspname <> 'pg_catalog'"
            params = None
        else:
            where, params = "n.nspname::text = $1", (schema,)
        self.cur.execute(
            "SELECT c.oid::int8 AS oid, c.relname::text AS relname FROM pg_catalog.pg_class c"
            " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            f" WHERE c.relkind IN ('r', 'p', 'v') AND c.relpersistence <> 't' AND {where}",
            params,
        )
        found = self.cur.fetch_arrow_table().to_pydict()
        self._oids = dict(zip(found["relname"], found["oid"]))
        return list(found["relname"])

    def columns(self, table: str, schema: str | None) -> list[str]:
        self.cur.execute(
            "SELECT a.attname::text AS name FROM pg_catalog.pg_attribute a"
            " WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (self._oids[table],),
        )
        return self.cur.fetch_arrow_table().column("name").to_pylist()

    def recover(self) -> None:
        pass  # autocommit: a failed statement leaves nothing to roll back

    def result_columns(self, sql: str) -> list[str]:
        return self.cur.adbc_execute_schema(sql).names  # prepared and described, not run


# ---------------------------------------------------------------- Arrow -> text, per PostgreSQL type


def _storage(arr: pa.Array) -> pa.Array:
    return arr.storage if isinstance(arr, pa.ExtensionArray) else arr


_NUMERIC_SPECIAL = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}  # ADBC -> Decimal spelling


def _numeric_text(arr: pa.Array) -> pa.Array:
    out = _storage(arr).cast(pa.string())
    special = pc.is_in(out, value_set=pa.array(list(_NUMERIC_SPECIAL)))
    if pc.any(special).as_py():
        for adbc, python in _NUMERIC_SPECIAL.items():
            out = pc.if_else(pc.equal(out, adbc), python, out)
    return out


def _numeric_max(arr: pa.Array) -> Decimal | None:
    """The greatest value, NaN ignored (as the SQLAlchemy path ignores Decimal NaN); among
    equal values the first, keeping its scale."""
    s = pc.drop_null(_storage(arr).cast(pa.string()))
    s = pc.filter(s, pc.not_equal(s, "nan"))
    if len(s) == 0:
        return None
    if pc.any(pc.equal(s, "inf")).as_py():
        return Decimal("Infinity")
    finite = pc.filter(s, pc.not_equal(s, "-inf"))
    if len(finite) == 0:
        return Decimal("-Infinity")
    try:
        # Rounding to double is monotonic: the exact maximum is among the values whose double
        # is the greatest double, usually one. Only those are compared as Decimals.
        as_float = pc.cast(finite, pa.float64())
        finite = pc.filter(finite, pc.equal(as_float, pc.max(as_float)))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:
        return max((Decimal(v) for v in finite.to_pylist()), default=None)
    except InvalidOperation:
        return None


def _float4_text(arr: pa.Array) -> pa.Array:
    """float32 rendered as psycopg sees it: the shortest float32 text (PostgreSQL's own
    output), read as a double, rendered by the common rules."""
    out = pc.cast(arr, pa.string())
    if pc.any(pc.match_substring(out, "e", ignore_case=True)).as_py():
        return pa.array([None if v is None else float_text(float(v)) for v in out.to_pylist()], pa.string())
    return out


def _float4_max(arr: pa.Array) -> float | None:
    top = pc.max(arr)
    if not top.is_valid:
        return None
    return float(pc.cast(pa.array([top.as_py()], pa.float32()), pa.string())[0].as_py())


def _uuid_max(arr: pa.Array) -> uuid.UUID | None:
    top = pc.max(_storage(arr)).as_py()  # byte order is UUID order
    return None if top is None else uuid.UUID(bytes=top)


def _plain_max(arr: pa.Array) -> Any:
    return pc.max(arr).as_py()


# PostgreSQL type (as ADBC reports it in the field metadata; domains report their base type)
# -> (the Arrow type ADBC 1.x gives it, text conversion, typed maximum for the watermark).
# Anything else, or an unexpected Arrow type (another driver version), is declined.
Conversion = tuple[Callable[[pa.DataType], bool], Callable[[pa.Array], pa.Array], Callable[[pa.Array], Any]]


def _arrow(expected: pa.DataType) -> Callable[[pa.DataType], bool]:
    return lambda t: t == expected


def _extension(storage: pa.DataType) -> Callable[[pa.DataType], bool]:
    return lambda t: isinstance(t, pa.BaseExtensionType) and t.storage_type == storage


_CONVERSIONS: dict[str, Conversion] = {
    **{
        t: (_arrow(pa.string()), text_array, _plain_max)
        for t in ("text", "varchar", "bpchar", "char", "name")
    },
    "bool": (_arrow(pa.bool_()), text_array, _plain_max),
    "int2": (_arrow(pa.int16()), text_array, _plain_max),
    "int4": (_arrow(pa.int32()), text_array, _plain_max),
    "int8": (_arrow(pa.int64()), text_array, _plain_max),
    "float4": (_arrow(pa.float32()), _float4_text, _float4_max),
    "float8": (_arrow(pa.float64()), text_array, _plain_max),
    "numeric": (_extension(pa.string()), _numeric_text, _numeric_max),
    "date": (_arrow(pa.date32()), text_array, _plain_max),
    "timestamp": (lambda t: pa.types.is_timestamp(t) and t.tz is None, text_array, _plain_max),
    "timestamptz": (lambda t: pa.types.is_timestamp(t) and t.tz is not None, text_array, _plain_max),
    "time": (pa.types.is_time, text_array, _plain_max),
    "bytea": (_arrow(pa.binary()), text_array, _plain_max),  # hex, value by value (as on the other path)
    "uuid": (_extension(pa.binary(16)), text_array, _uuid_max),  # value by value in text_array
}


def _beijing_naive(arr: pa.Array) -> pa.Array:
    """timestamptz as Beijing wall-clock time without zone (the model's rule), still typed."""
    return pc.local_timestamp(arr.cast(pa.timestamp(arr.type.unit, tz=BEIJING)))


# Types passed on typed when the caller asks for it (`typed=True`): the warehouse's cast renders
# them as connectors.text does; everything else is rendered here.
_TYPED = {
    "int2": lambda a: a, "int4": lambda a: a, "int8": lambda a: a, "date": lambda a: a,
    "timestamp": lambda a: a, "timestamptz": _beijing_naive,
}


def _pg_type(field: pa.Field) -> str:
    meta = field.metadata or {}
    raw = meta.get(_PG_TYPE)
    return raw.decode("utf-8", "replace") if raw is not None else str(field.type)


def _plan(schema: pa.Schema) -> list[tuple[Callable, Callable]]:
    """(text conversion, typed maximum) for each column; Declined when some column has a type
    not handled here."""
    plan, refused = [], []
    for field in schema:
        conv = _CONVERSIONS.get(_pg_type(field))
        if conv is None or not conv[0](field.type):
            refused.append(f"{field.name} ({_pg_type(field)})")
            plan.append(None)
        else:
            plan.append(conv[1:])
    if refused:
        raise Declined(f"does not render these column types like the sqlalchemy engine: {', '.join(refused)}")
    return plan


# ---------------------------------------------------------------- extraction


def read_batches(ex: SqlExtract) -> Iterator[pa.RecordBatch]:
    """The extract's batches read through ADBC; sets `ex.columns` and `ex.high_watermark`.
    The connection is parked for the next read once this one has run to its end."""
    dbapi = _dbapi()
    conn, cur = _session(ex, dbapi)
    finished = False
    try:
        yield from _read(ex, dbapi, cur)
        finished = True
    finally:
        cur.close()
        if finished:
            _park(libpq_uri(ex.url), conn)
        else:
            _close_quietly(conn)


def _read(ex: SqlExtract, dbapi, cur) -> Iterator[pa.RecordBatch]:
    try:
        source_sql, cursor = ex.resolve(_PREP, _AdbcCatalog(cur, dbapi))
        sql = f"SELECT * FROM {source_sql}"
        schema = cur.adbc_execute_schema(sql)  # prepared and described, not run
    except dbapi.Error as exc:
        raise ex._error(
            f"cannot read {ex.what} from {mask_url(ex.url)}: {driver_message(exc, ex.url)}"
        ) from exc
    names = schema.names
    cursor_at = ex._result_columns(names)
    plan = _plan(schema)  # Declined here, before anything is yielded
    if ex.typed:
        plan = [(_TYPED.get(_pg_type(f), conv), top) for f, (conv, top) in zip(schema, plan, strict=True)]
    if cursor is not None and ex.since is not None:
        since = ex.since if isinstance(ex.since, str) else render_value(ex.since)
        try:
            literal = pg_literal(since)
        except ValueError as exc:
            raise ex._error(f"since {since!r}: {exc}") from None
        sql += f" WHERE {_PREP.quote(cursor)} > {literal}"
    try:
        cur.execute(sql)
        reader = cur.fetch_record_batch()
    except dbapi.Error as exc:
        raise ex._error(
            f"cannot read {ex.what} from {mask_url(ex.url)}: {driver_message(exc, ex.url)}"
        ) from exc
    top = CursorMax()
    received = 0

    def typed_batches() -> Iterator[pa.RecordBatch]:
        nonlocal received
        for raw in reader:
            received += raw.num_rows
            yield raw

    emitted = False
    try:
        # Re-cut the typed batches (cheaper to concatenate than their text), then render.
        for raw in rechunk(typed_batches(), ex.batch_rows):
            columns = [convert(raw.column(i)) for i, (convert, _) in enumerate(plan)]
            if cursor_at is not None:
                # Maximum of the typed values, before rendering (text order is not value order).
                top.offer(plan[cursor_at][1](raw.column(cursor_at)))
            emitted = True
            yield pa.RecordBatch.from_arrays(columns, names=names)
    except (dbapi.Error, pa.ArrowException, OSError) as exc:
        raise ex._error(
            f"reading {ex.what} failed after {received} rows: {driver_message(exc, ex.url)}"
        ) from exc
    finally:
        reader.close()
    if not emitted:
        yield empty_batch(names)
    ex.high_watermark = render_value(top.value)
