"""Extract a table or query through ODBC (pyodbc + unixODBC drivers) as text record batches.

Why ODBC: departmental systems such as 达梦 (DM), 人大金仓 (Kingbase) or SQL Server often offer
nothing else on the front-end machine; the same code reads PostgreSQL and MariaDB through
psqlODBC and MariaDB Connector/ODBC.

Two routes, one output. The fast route is `arrow-odbc`: the driver fills column buffers and
Arrow batches come out without a Python object per value. Types that could lose data on that
route are fetched as the driver's text instead (decimals, so the database's scale is kept;
integers on non-PostgreSQL systems, where an UNSIGNED column would wrap around; MySQL TIME,
which may exceed 24 hours), and fixed-size binaries are rebound as variable binaries (arrow-odbc
aborts the process on some of them). If arrow-odbc is not installed or cannot bind a column
type, the fallback route is pyodbc `fetchmany` → Python column lists → Arrow, as in
`connectors.sql`. Either way each batch is rendered to text by `connectors.text`, and the
incremental cursor's maximum is taken from typed values before rendering.

Bulk fetching needs a buffer per column sized for the longest value: text values longer than
`MAX_TEXT_BYTES` (UTF-8 bytes) cannot go through arrow-odbc. When that happens before the first
batch is handed out, the read switches to pyodbc silently; after that, it fails with a
`SourceError` that says so (the caller's load is transactional) and this extract's next
iteration uses pyodbc.

Memory: at most `batch_rows` rows are held (plus two bounded arrow-odbc transit buffers); psqlODBC
gets ``UseDeclareFetch=1;Fetch=<batch_rows>`` so that it does not buffer the whole result.
MariaDB Connector/ODBC 3.1 buffers the whole result in the driver whatever the options.

Sessions run in Beijing time (PostgreSQL ``SET TIME ZONE``, MySQL/MariaDB ``time_zone``), so
timestamptz / TIMESTAMP values, watermarks and the bound `since` are Beijing wall-clock time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

from connectors import odbc_connstr as cstr
from connectors.errors import SourceError
from connectors.extract_request import CursorMax, Extract, check_extract, pick_column, rows_batch, split_identifier
from connectors.text import empty_batch, rechunk, render_value, text_array

DEFAULT_BATCH_ROWS = 50_000
DEFAULT_RETRY_DELAYS = (0.5, 1.0)  # seconds between connection attempts: 3 attempts in all
CONNECT_TIMEOUT_S = 10
MAX_TEXT_BYTES = 32_768  # arrow-odbc buffer per text value (psqlODBC itself caps `text` at 8190 × 4)
MAX_BINARY_BYTES = 32_768
MAX_TRANSIT_BYTES = 64 << 20  # arrow-odbc fetch buffer; fewer rows per fetch when rows are wide

PG, MYSQL = "postgresql", "mysql"
_MAX_MESSAGE = 500


def _pyodbc():
    try:
        import pyodbc
    except ImportError as exc:  # pyodbc needs libodbc.so.2 (Debian package unixodbc)
        raise SourceError(f"pyodbc cannot be loaded ({exc}); install unixODBC (Debian: unixodbc)") from None
    return pyodbc


def _arrow_odbc():
    try:
        import arrow_odbc
    except ImportError:
        return None
    return arrow_odbc


def fast_path_available() -> bool:
    """True when `arrow-odbc` is installed (the fast route)."""
    return _arrow_odbc() is not None


# ---------------------------------------------------------------- connection strings


def odbc_connection_string(dsn: str | None, connection_string: str | None) -> str:
    """The ODBC connection string of a source: ``DSN=name`` or the given string (exactly one)."""
    dsn = (dsn or "").strip()
    text = (connection_string or "").strip()
    if bool(dsn) == bool(text):
        raise SourceError("give exactly one of dsn and connection_string")
    return "DSN=" + cstr.quote_value(dsn) if dsn else text


def mask_connection_string(connection_string: str) -> str:
    """The connection string with PWD (and other secrets) shown as ***; never raises."""
    return cstr.mask_connection_string(connection_string)


def _family(name: str | None) -> str | None:
    """The database family from a driver name, driver path or DBMS name."""
    n = (name or "").lower()
    if "postgres" in n or "psqlodbc" in n:
        return PG
    if "mariadb" in n or "maodbc" in n or "mysql" in n or "myodbc" in n:
        return MYSQL
    return None


class _Target:
    """A parsed connection string: what to show, what to scrub, what to send."""

    def __init__(self, connection_string: str, *, source: str, stream: str | None) -> None:
        if not connection_string or not connection_string.strip():
            raise SourceError("the ODBC connection string is empty", source=source, stream=stream)
        try:
            self.attrs = cstr.attributes(connection_string)
        except cstr.ConnectionStringError as exc:
            raise SourceError(
                f"invalid ODBC connection string (value not shown): {exc}", source=source, stream=stream
            ) from None
        if not self.attrs:
            raise SourceError("the ODBC connection string has no attributes", source=source, stream=stream)
        self.raw = connection_string
        self.shown = cstr.mask_connection_string(connection_string)
        self.secrets = cstr.secrets(connection_string)
        self.source = source
        self.stream = stream

    def error(self, detail: str) -> SourceError:
        return SourceError(cstr.scrub(detail, self.secrets), source=self.source, stream=self.stream)

    def message(self, exc: BaseException) -> str:
        return cstr.scrub(_driver_message(exc), self.secrets)

    def check_installed(self) -> str | None:
        """Fail early and clearly on an unknown driver or DSN; return the driver's family."""
        try:
            pyodbc = _pyodbc()
        except SourceError as exc:
            raise self.error(exc.detail) from None
        driver = self.attrs.get("DRIVER")
        dsn = self.attrs.get("DSN")
        if driver:
            installed = pyodbc.drivers()
            is_library = "/" in driver or re.search(r"\.(so(\.\d+)*|dll|dylib)$", driver, re.IGNORECASE)
            if not is_library and driver.lower() not in {d.lower() for d in installed}:
                raise self.error(
                    f"ODBC driver {driver!r} is not installed (installed: {', '.join(installed) or 'none'}; "
                    f"see odbcinst -q -d) — connection {self.shown}"
                )
            return _family(driver)
        if dsn:
            sources = {k.lower(): v for k, v in pyodbc.dataSources().items()}
            if dsn.lower() not in sources:
                raise self.error(
                    f"ODBC data source {dsn!r} is not defined (odbc.ini; see odbcinst -q -s) — connection {self.shown}"
                )
            return _family(sources[dsn.lower()])
        return None

    def for_driver(self, family: str | None, batch_rows: int) -> str:
        """The string sent to the driver: the user's, plus our defaults for keys it lacks."""
        if family == PG:
            defaults = [
                ("CommLog", "0"),  # Debian's odbcinst.ini entry logs every connection into /tmp
                ("UseDeclareFetch", "1"),  # a server-side cursor: do not buffer the whole result
                ("Fetch", str(batch_rows)),
                ("BoolsAsChar", "0"),  # booleans as booleans, rendered true/false
            ]
        elif family == MYSQL:
            defaults = [("CHARSET", "utf8mb4")]
        else:
            return self.raw
        return cstr.with_defaults(self.raw, defaults)


def _driver_message(exc: BaseException) -> str:
    """One line of a pyodbc / arrow-odbc error, without the exception's tuple wrapping."""
    args = getattr(exc, "args", ())
    text = str(args[1]) if len(args) >= 2 and isinstance(args[1], str) else str(exc)
    text = re.sub(r"\s+", " ", text).strip()
    text = text.replace("ODBC emitted an error calling ", "")
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE] + " …"
    return text or type(exc).__name__


def _sqlstate(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], str):
        return args[0]
    m = re.search(r"State: (\w{5})", str(exc))
    return m.group(1) if m else ""


def _permanent(exc: BaseException) -> bool:
    """Errors that no retry can cure: driver manager errors (IM…), unloadable driver, bad login."""
    state = _sqlstate(exc)
    return state.startswith("IM") or state == "28000" or "Can't open lib" in str(exc)


def _retrying(
    open_: Callable[[], object],
    target: _Target,
    retry_delays: Sequence[float],
    errors: tuple[type[BaseException], ...],
) -> object:
    attempts = len(retry_delays) + 1
    for attempt in range(attempts):
        try:
            return open_()
        except errors as exc:
            if attempt + 1 < attempts and not _permanent(exc):
                time.sleep(retry_delays[attempt])
                continue
            n = attempt + 1
            # `from None`: the chained driver exception is not scrubbed.
            raise target.error(
                f"cannot connect to {target.shown} after {n} attempt{'s' if n > 1 else ''}: {target.message(exc)}"
            ) from None
    raise AssertionError("unreachable")


def _connect(target: _Target, family: str | None, batch_rows: int, retry_delays: Sequence[float]):
    pyodbc = _pyodbc()
    text = target.for_driver(family, batch_rows)
    return _retrying(
        lambda: pyodbc.connect(text, autocommit=True, timeout=CONNECT_TIMEOUT_S),
        target,
        retry_delays,
        (pyodbc.Error,),
    )


def _dbms(conn) -> str:
    pyodbc = _pyodbc()
    try:
        return conn.getinfo(pyodbc.SQL_DBMS_NAME) or ""
    except pyodbc.Error:
        return ""


def _session_sql(dbms_family: str | None) -> str | None:
    if dbms_family == PG:
        return "SET TIME ZONE 'Asia/Shanghai'"
    if dbms_family == MYSQL:
        return "SET time_zone = '+08:00'"  # China has no DST; named zones may be absent
    return None


def _quote_char(conn) -> str:
    pyodbc = _pyodbc()
    try:
        q = conn.getinfo(pyodbc.SQL_IDENTIFIER_QUOTE_CHAR) or ""
    except pyodbc.Error:
        q = '"'
    return "" if not q.strip() else q.strip()


def _quote(name: str, q: str) -> str:
    # Names were validated as plain identifiers: they cannot contain a quote character.
    return f"{q}{name}{q[-1] if len(q) > 1 else q}" if q else name


def _mysql_converters(conn) -> None:
    """MySQL/MariaDB through pyodbc: UNSIGNED integers wrap around (INT UNSIGNED 4294967295 → -1)
    and TIME beyond 24 h raises. The driver's text of those values is exact: fetch that."""
    pyodbc = _pyodbc()

    def integer(raw: bytes | None) -> int | None:
        return None if raw is None else int(raw)

    def mysql_time(raw: bytes | None) -> str | None:
        return None if raw is None else _time_text(raw.decode("ascii"))

    for sql_type in (pyodbc.SQL_TINYINT, pyodbc.SQL_SMALLINT, pyodbc.SQL_INTEGER, pyodbc.SQL_BIGINT):
        conn.add_output_converter(sql_type, integer)
    for sql_type in (pyodbc.SQL_TYPE_TIME, getattr(pyodbc, "SQL_TIME", 10)):
        conn.add_output_converter(sql_type, mysql_time)


def _time_text(text: str) -> str:
    """MySQL TIME text by `connectors.text` rules: no '.000000', else six fractional digits."""
    head, _, frac = text.partition(".")
    if not frac or not frac.strip("0"):
        return head
    return f"{head}.{frac[:6].ljust(6, '0')}"


# ---------------------------------------------------------------- public helpers


def check_odbc(connection_string: str, *, source: str, retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS) -> None:
    """Raise SourceError unless the data source answers a trivial query."""
    pyodbc = _pyodbc()
    target = _Target(connection_string, source=source, stream=None)
    family = target.check_installed()
    conn = _connect(target, family, DEFAULT_BATCH_ROWS, retry_delays)
    try:
        cur = conn.cursor()
        last: BaseException | None = None
        for probe in ("SELECT 1", "SELECT 1 FROM DUAL"):  # DUAL: Oracle-style systems (达梦 accepts both)
            try:
                cur.execute(probe).fetchall()
                return
            except pyodbc.Error as exc:
                last = exc
        raise target.error(f"{target.shown} does not answer queries: {target.message(last)}")
    finally:
        conn.close()


def odbc_has_table(connection_string: str, table: str, *, source: str) -> bool:
    """Whether `table` (``name`` or ``schema.name``, case-insensitively unique) can be read."""
    pyodbc = _pyodbc()
    parts = split_identifier(table, what="table", max_parts=2, source=source, stream=None)
    target = _Target(connection_string, source=source, stream=None)
    family = target.check_installed()
    conn = _connect(target, family, DEFAULT_BATCH_ROWS, DEFAULT_RETRY_DELAYS)
    try:
        dbms = _family(_dbms(conn)) or family
        *schema, name = parts
        schema_name = schema[0] if schema else None
        known = _catalogue_names(conn, schema_name, name, dbms)
        if pick_column(name, known) is not None:
            return True
        q = _quote_char(conn)
        sql = f"SELECT * FROM {_table_sql(schema_name, name, q)} WHERE 1 = 0"
        cur = conn.cursor()
        try:
            cur.execute(sql)
            return True
        except pyodbc.Error:
            return False
        finally:
            cur.close()
    finally:
        conn.close()


def _catalogue_names(conn, schema: str | None, table: str, dbms: str | None) -> list[str]:
    """Table and view names from SQLTables that may be `table`; best effort (empty on error)."""
    pyodbc = _pyodbc()
    # MySQL has no schemas: `db.table` names a database, which ODBC calls the catalog.
    scope = {"catalog": schema} if dbms == MYSQL else {"schema": schema}
    cur = conn.cursor()
    try:
        names = [row[2] for row in cur.tables(table=table, **scope).fetchall()]
        if table in names:
            return sorted(set(names))
        # Not under its own spelling (SQLTables patterns are case-sensitive): list the scope.
        return sorted({row[2] for row in cur.tables(**scope).fetchall()})
    except pyodbc.Error:
        return []
    finally:
        cur.close()


def _table_sql(schema: str | None, table: str, q: str) -> str:
    return (_quote(schema, q) + "." if schema else "") + _quote(table, q)


# ---------------------------------------------------------------- extraction


class _FastUnavailable(Exception):
    """arrow-odbc could not read the result before anything was handed out: use pyodbc."""


class _Unbindable(Exception):
    """A column type the fast route must not bind (raised from `map_schema`)."""


def _safe_schema(family: str | None, original: dict[str, pa.DataType]) -> Callable[[pa.Schema], pa.Schema]:
    """arrow-odbc `map_schema`: keep exact types, fetch risky ones as the driver's text."""

    def mapped(schema: pa.Schema) -> pa.Schema:
        fields = []
        for f in schema:
            original[f.name] = t = f.type
            if pa.types.is_integer(t) and family != PG:
                t = pa.string()  # UNSIGNED columns would wrap around in signed buffers
            elif pa.types.is_floating(t):
                t = pa.float64()  # psqlODBC reports float8 as FLOAT: arrow-odbc would pick float32
            elif pa.types.is_time(t) and family == MYSQL:
                # A duration (-838:59:59 … 838:59:59): time32 fails on it, and as text the
                # driver sizes the buffer for HH:MM:SS. pyodbc reads it as text.
                raise _Unbindable(f"column {f.name!r} is a MySQL TIME (a duration)")
            elif pa.types.is_fixed_size_binary(t):
                t = pa.binary()  # arrow-odbc 10.6 panics (aborts the process) on MariaDB BIT(n)
            elif not (
                pa.types.is_integer(t)
                or pa.types.is_boolean(t)
                or pa.types.is_date(t)
                or pa.types.is_timestamp(t)
                or pa.types.is_time(t)
                or pa.types.is_string(t)
                or pa.types.is_large_string(t)
                or pa.types.is_binary(t)
                or pa.types.is_large_binary(t)
            ):
                t = pa.string()  # decimals (scale as in the database) and anything unforeseen
            fields.append(pa.field(f.name, t, nullable=True))
        return pa.schema(fields)

    return mapped


def _passes_typed(t: pa.DataType) -> bool:
    """Types a `typed` extract hands over as they are (the schema mapping already turned the
    risky ones, such as MySQL's unsigned integers, into text)."""
    return pa.types.is_integer(t) or pa.types.is_date(t) or (pa.types.is_timestamp(t) and t.tz is None)


def _typed_max(arr: pa.Array, original: pa.DataType | None) -> object:
    """The greatest value of one cursor column of an arrow-odbc batch, as a Python value."""
    if pa.types.is_string(arr.type) and original is not None and not pa.types.is_string(original):
        values = [v for v in arr.to_pylist() if v is not None]
        if pa.types.is_integer(original):
            return max((int(v) for v in values), default=None)
        if pa.types.is_decimal(original):
            nums = []
            for v in values:
                try:
                    d = Decimal(v)
                except InvalidOperation:
                    continue
                if not d.is_nan():
                    nums.append(d)
            return max(nums, default=None)
        return max(values, default=None)
    if len(arr) == arr.null_count:
        return None
    if pa.types.is_floating(arr.type):
        arr = pc.filter(arr, pc.invert(pc.is_nan(arr)))
    return pc.max(arr).as_py()


class OdbcExtract(Extract):
    """An iterable of text record batches from one table or query over ODBC.

    Iterating opens the connection(s), streams the rows and closes them. At least one batch is
    yielded (an empty one with the column names when no row matches). `high_watermark` is the
    greatest cursor value seen, as text, set once the iteration has run to its end (None if no
    row had a cursor value). `route` tells which reader ran: "arrow-odbc" or "pyodbc".
    """

    def __init__(
        self,
        target: _Target,
        *,
        table: list[str] | None,
        query: str | None,
        cursor: str | None,
        since: str | None,
        batch_rows: int,
        retry_delays: Sequence[float],
        fast: bool | None,
        typed: bool = False,
    ) -> None:
        super().__init__(source=target.source, stream=target.stream, table=table, query=query, cursor=cursor,
                         since=since, batch_rows=batch_rows, retry_delays=retry_delays)
        self._target = target
        self.fast = fast
        self.typed = typed
        self.route: str | None = None
        self.fast_failure: str | None = None  # why arrow-odbc was given up, if it was

    def _error(self, detail: str) -> SourceError:
        return self._target.error(detail)  # secrets of the connection string scrubbed

    # -- the iteration

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        pyodbc = _pyodbc()
        self.high_watermark = None
        target = self._target
        family = target.check_installed()
        conn = _connect(target, family, self.batch_rows, self.retry_delays)
        try:
            dbms = _family(_dbms(conn)) or family
            session = _session_sql(dbms)
            try:
                if session:
                    conn.execute(session)
                sql, names = self._select(conn, dbms)
            except pyodbc.Error as exc:
                raise self._error(f"cannot read {self.what} from {target.shown}: {target.message(exc)}") from exc
            cursor_at = self._result_columns(names)
            params = [] if self.since is None or self._cursor is None else [self.since]
            arrow_odbc = _arrow_odbc()
            if self.fast and arrow_odbc is None:
                raise self._error("fast=True but arrow-odbc is not installed (pip install arrow-odbc)")
            if arrow_odbc is not None and (self.fast or (self.fast is None and self.fast_failure is None)):
                batches = self._fast(arrow_odbc, dbms, family, sql, params, names, cursor_at)
                try:
                    first = next(batches)
                except _FastUnavailable as exc:
                    self.fast_failure = str(exc)
                    if self.fast:
                        raise self._error(f"arrow-odbc cannot read {self.what}: {exc}") from None
                else:
                    self.route = "arrow-odbc"
                    yield first
                    yield from batches
                    return
            self.route = "pyodbc"
            if dbms == MYSQL:
                _mysql_converters(conn)
            yield from self._slow(conn, sql, params, names, cursor_at)
        finally:
            conn.close()

    def _select(self, conn, dbms: str | None) -> tuple[str, list[str]]:
        """The SELECT to run and its column names: identifiers resolved and quoted, `since` as `?`."""
        q = _quote_char(conn)
        cursor = self._cursor
        if self._table is not None:
            *schema, table = self._table
            schema_name = schema[0] if schema else None
            table = pick_column(table, _catalogue_names(conn, schema_name, table, dbms)) or table
            source_sql = _table_sql(schema_name, table, q)
        else:
            query = self._query.strip().rstrip(";").strip()
            source_sql = f"({query}) hub_q"  # no AS: Oracle-style systems reject it for tables
        probe = conn.cursor()
        try:
            probe.execute(f"SELECT * FROM {source_sql} WHERE 1 = 0")
            names = [d[0] for d in probe.description]
        finally:
            probe.close()
        sql = f"SELECT * FROM {source_sql}"
        if cursor is not None:
            found = pick_column(cursor, names)
            if found is None:
                raise self._error(f"cursor column {cursor!r} is not among the columns of {self.what}")
            if self.since is not None:
                # Bound as text: the database casts it to the column's type.
                sql += f" WHERE {_quote(found, q)} > ?"
        return sql, names

    def _fast(self, arrow_odbc, dbms, family, sql, params, names, cursor_at) -> Iterator[pa.RecordBatch]:
        """Batches through arrow-odbc, re-chunked to `batch_rows`. Raises _FastUnavailable if it
        fails before the first batch is handed out."""
        target = self._target
        original: dict[str, pa.DataType] = {}
        handed_out = False
        rows_seen = 0
        top = CursorMax()
        aconn = reader = None
        try:
            try:
                aconn = _retrying(
                    lambda: arrow_odbc.connect(
                        target.for_driver(family, self.batch_rows), login_timeout_sec=CONNECT_TIMEOUT_S
                    ),
                    target,
                    self.retry_delays,
                    (arrow_odbc.Error,),
                )
                session = _session_sql(dbms)
                if session:
                    aconn.execute(session)
                reader = aconn.read_arrow_batches(
                    sql,
                    batch_size=self.batch_rows,
                    parameters=params or None,
                    max_bytes_per_batch=MAX_TRANSIT_BYTES,
                    max_text_size=MAX_TEXT_BYTES,
                    max_binary_size=MAX_BINARY_BYTES,
                    map_schema=_safe_schema(dbms, original),
                    # The driver fills the next transit buffer while this one becomes Arrow: one more
                    # buffer (≤ MAX_TRANSIT_BYTES) for a sixth less time over psqlODBC.
                    fetch_concurrently=True,
                )
            except (arrow_odbc.Error, SourceError, _Unbindable) as exc:
                raise _FastUnavailable(cstr.scrub(_driver_message(exc), target.secrets)) from None

            def converted() -> Iterator[pa.RecordBatch]:
                nonlocal rows_seen
                while True:
                    try:
                        batch = next(reader)
                    except StopIteration:
                        return
                    except arrow_odbc.Error as exc:
                        msg = target.message(exc)
                        if not handed_out:
                            raise _FastUnavailable(msg) from None
                        self.fast_failure = msg
                        hint = ""
                        if "truncation" in msg:
                            hint = (
                                " (a value is longer than the fast reader's buffer for its column, at most "
                                f"{MAX_TEXT_BYTES} bytes; read this stream with fast=False — this extract's "
                                "next iteration does)"
                            )
                        raise self._error(f"reading {self.what} failed after {rows_seen} rows: {msg}{hint}") from None
                    texts = []
                    for i, col in enumerate(batch.columns):
                        texts.append(col if self.typed and _passes_typed(col.type) else text_array(col))
                        if i == cursor_at:
                            top.offer(_typed_max(col, original.get(batch.schema.names[i])))
                    rows_seen += batch.num_rows
                    yield pa.RecordBatch.from_arrays(texts, names=names)

            for out in rechunk(converted(), self.batch_rows):
                handed_out = True
                yield out
            if rows_seen == 0:
                yield empty_batch(names)
            self.high_watermark = render_value(top.value)
        finally:
            # arrow-odbc frees statement and connection with their objects: the reader first.
            reader = None
            aconn = None

    def _slow(self, conn, sql, params, names, cursor_at) -> Iterator[pa.RecordBatch]:
        """Batches through pyodbc fetchmany, typed Python columns turned into Arrow and text."""
        pyodbc = _pyodbc()
        top = CursorMax()
        rows_seen = 0
        cur = conn.cursor()
        try:
            try:
                cur.execute(sql, *params)
            except pyodbc.Error as exc:
                raise self._error(
                    f"cannot read {self.what} from {self._target.shown}: {self._target.message(exc)}"
                ) from exc
            while True:
                try:
                    rows = cur.fetchmany(self.batch_rows)
                except (pyodbc.Error, ValueError, OverflowError) as exc:  # e.g. a date pyodbc cannot hold
                    raise self._error(
                        f"reading {self.what} failed after {rows_seen} rows: {self._target.message(exc)}"
                    ) from exc
                if not rows:
                    break
                rows_seen += len(rows)
                yield rows_batch(rows, names, cursor_at, top)
        finally:
            cur.close()
        if rows_seen == 0:
            yield empty_batch(names)
        self.high_watermark = render_value(top.value)


def read_odbc(
    connection_string: str,
    *,
    source: str,
    stream: str,
    table: str | None = None,
    query: str | None = None,
    cursor: str | None = None,
    since: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    fast: bool | None = None,
    typed: bool = False,
) -> OdbcExtract:
    """Prepare an extract of `table` (``name`` or ``schema.name``) or `query` (exactly one).

    With `cursor` and `since`, only rows whose cursor is strictly greater than `since` are read.
    `fast`: None uses arrow-odbc when installed and falls back to pyodbc when it cannot read the
    result; True insists on arrow-odbc; False uses pyodbc only. Arguments are checked now; the
    data source is contacted when the result is iterated.

    `typed`: on the arrow-odbc path, integers (PostgreSQL drivers), dates and timestamps without
    zone stay typed Arrow columns for a caller that renders them itself (the warehouse, in bulk);
    every other column, and the pyodbc path, is text.
    """
    parts = check_extract(table=table, query=query, cursor=cursor, batch_rows=batch_rows, source=source,
                          stream=stream)
    target = _Target(connection_string, source=source, stream=stream)
    return OdbcExtract(
        target,
        table=parts,
        query=query,
        cursor=cursor,
        since=since,
        batch_rows=batch_rows,
        retry_delays=retry_delays,
        fast=fast,
        typed=typed,
    )


__all__ = [
    "OdbcExtract",
    "check_odbc",
    "fast_path_available",
    "mask_connection_string",
    "odbc_connection_string",
    "odbc_has_table",
    "read_odbc",
]
