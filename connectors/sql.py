"""Extract a table or query from a SQL database (SQLAlchemy 2) as text record batches.

Why this shape: rows are streamed with a server-side cursor (`stream_results`,
`yield_per`) so memory stays bounded whatever the table size; each fetched
partition is turned into Arrow column by column and rendered to text by
`connectors.text`. The incremental cursor's maximum is taken from the typed
values before rendering, and rendered by the same rules, so it can be bound
back as `since` on the next run.

Sessions run in Beijing time (PostgreSQL `TIME ZONE`, MySQL `time_zone`), so
that a rendered watermark compares correctly with timestamptz / TIMESTAMP
columns and MySQL TIMESTAMP values come back as Beijing wall-clock.

Two engines, one contract: PostgreSQL sources are read by default through ADBC
(`connectors.sql_adbc`: libpq binary COPY straight into Arrow, several times
faster and lighter than row-wise fetching); every other database, and
PostgreSQL when the ADBC driver is not installed or the result has a column
type the fast path cannot render exactly like this path, goes through
SQLAlchemy. `engine="adbc"` / `engine="sqlalchemy"` forces one. Both yield the
same batches (names, text, sizes) and the same `high_watermark`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from connectors.errors import SourceError
from connectors.extract_request import CursorMax, Extract, check_extract, pick_column, rows_batch
from connectors.text import empty_batch, render_value

DEFAULT_BATCH_ROWS = 50_000
DEFAULT_RETRY_DELAYS = (0.5, 1.0)  # seconds between connection attempts: 3 attempts in all
CONNECT_TIMEOUT_S = 10
ENGINES = ("adbc", "sqlalchemy")


# ---------------------------------------------------------------- URLs and connections


def mask_url(url: str | URL) -> str:
    """The URL as text with its password replaced by ***; never raises."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        return "<unparsable URL>"


def normalize_url(url: str, *, source: str) -> URL:
    """Parse the URL and pick the installed drivers: psycopg 3, PyMySQL with utf8mb4."""
    try:
        u = make_url(url)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        # The text may hold a password we cannot locate: do not echo it.
        raise SourceError(
            "connection url is not a valid SQLAlchemy URL (value not shown)", source=source
        ) from None
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    elif u.drivername in ("mysql", "mariadb"):
        u = u.set(drivername=f"{u.drivername}+pymysql")
    if u.get_backend_name() in ("mysql", "mariadb") and "charset" not in u.query:
        u = u.update_query_dict({"charset": "utf8mb4"})
    return u


def _scrub(text: str, url: URL) -> str:
    """Remove the password from a driver message, should a driver ever echo it."""
    pw = url.password
    if pw and len(str(pw)) >= 3:
        text = text.replace(str(pw), "***")
    return text


def _driver_message(exc: BaseException, url: URL) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [ln for ln in str(orig).strip().splitlines() if ln.strip()]
    return _scrub(lines[0] if lines else type(orig).__name__, url)


def _engine(u: URL, *, source: str) -> Engine:
    if u.get_backend_name() == "sqlite":
        db = u.database
        if db and db != ":memory:" and not u.query.get("uri") and not Path(db).is_file():
            # SQLite would silently create an empty database: a wrong path must fail instead.
            raise SourceError(f"SQLite database file not found: {db}", source=source)
    connect_args = {}
    if u.get_backend_name() == "postgresql" and "connect_timeout" not in u.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        return sa.create_engine(u, poolclass=sa.pool.NullPool, connect_args=connect_args)
    except (sa.exc.SQLAlchemyError, ImportError, ValueError, TypeError) as exc:  # unknown dialect, no driver
        raise SourceError(f"cannot use {mask_url(u)}: {_scrub(str(exc), u)}", source=source) from None


def _connect(engine: Engine, *, source: str, retry_delays: Sequence[float]) -> Connection:
    """Connect, retrying with the given delays; a SourceError names the masked URL."""
    attempts = len(retry_delays) + 1
    for attempt in range(attempts):
        try:
            return engine.connect()
        except sa.exc.DBAPIError as exc:
            if attempt + 1 < attempts:
                time.sleep(retry_delays[attempt])
                continue
            msg = _driver_message(exc, engine.url)
            # `from None`: the chained driver exception is not scrubbed.
            raise SourceError(
                f"cannot connect to {mask_url(engine.url)} after {attempts} attempts: {msg}", source=source
            ) from None
    raise AssertionError("unreachable")


def _beijing_session(conn: Connection) -> None:
    backend = conn.engine.url.get_backend_name()
    if backend == "postgresql":
        conn.exec_driver_sql("SET TIME ZONE 'Asia/Shanghai'")
    elif backend in ("mysql", "mariadb"):
        conn.exec_driver_sql("SET time_zone = '+08:00'")  # China has no DST; named zones may be absent


def check_connection(url: str, *, source: str, retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS) -> None:
    """Raise SourceError unless the database answers a trivial query."""
    u = normalize_url(url, source=source)
    engine = _engine(u, source=source)
    try:
        with _connect(engine, source=source, retry_delays=retry_delays) as conn:
            try:
                conn.execute(sa.select(sa.literal_column("1"))).all()
            except sa.exc.DBAPIError as exc:
                raise SourceError(
                    f"{mask_url(u)} does not answer queries: {_driver_message(exc, u)}", source=source
                ) from None
    finally:
        engine.dispose()


def adbc_available() -> bool:
    """Whether the ADBC PostgreSQL driver is installed (checked without importing it: the
    import pulls in pyarrow.dataset, about half a second)."""
    try:
        return (
            find_spec("adbc_driver_postgresql") is not None and find_spec("adbc_driver_manager") is not None
        )
    except (ImportError, ValueError):
        return False


def choose_engine(engine: str | None, url: URL, *, source: str, stream: str | None = None) -> str:
    """The engine that will read `url`: ADBC for PostgreSQL when installed, else SQLAlchemy."""
    is_pg = url.get_backend_name() == "postgresql"
    if engine is None:
        return "adbc" if is_pg and adbc_available() else "sqlalchemy"
    if engine not in ENGINES:
        raise SourceError(
            f"engine must be one of {list(ENGINES)} or None, not {engine!r}", source=source, stream=stream
        )
    if engine == "adbc":
        if not is_pg:
            raise SourceError(
                f"engine 'adbc' reads PostgreSQL only, not {url.get_backend_name()} ({mask_url(url)})",
                source=source,
                stream=stream,
            )
        if not adbc_available():
            raise SourceError(
                "engine 'adbc' needs the adbc-driver-postgresql package, which is not installed",
                source=source,
                stream=stream,
            )
    return engine


# ---------------------------------------------------------------- identifiers


# ---------------------------------------------------------------- extraction


class Catalog(Protocol):
    """What resolving names needs from a connection (one implementation per engine)."""

    errors: tuple[type[BaseException], ...]  # catalogue failures that are ignored (best effort)

    def relations(self, schema: str | None) -> list[str]:
        """Names of the tables and views in `schema` (None: those visible by default)."""

    def columns(self, table: str, schema: str | None) -> list[str]:
        """Column names of `table`, one of `relations(schema)`."""

    def recover(self) -> None:
        """Make the session usable again after one of `errors`."""

    def result_columns(self, sql: str) -> list[str]:
        """Column names `sql` (a SELECT) would return."""


class _SaCatalog:
    errors = (sa.exc.SQLAlchemyError,)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._insp = None

    def _inspector(self):
        if self._insp is None:
            self._insp = sa.inspect(self.conn)
        return self._insp

    def relations(self, schema: str | None) -> list[str]:
        insp = self._inspector()
        return insp.get_table_names(schema) + insp.get_view_names(schema)

    def columns(self, table: str, schema: str | None) -> list[str]:
        return [c["name"] for c in self._inspector().get_columns(table, schema)]

    def recover(self) -> None:
        self.conn.rollback()  # PostgreSQL refuses further statements in a failed transaction
        _beijing_session(self.conn)

    def result_columns(self, sql: str) -> list[str]:
        # Escape nothing here: `sql` is built from an already escaped query.
        probe = self.conn.execute(sa.text(f"{sql} WHERE 1 = 0"))
        try:
            return list(probe.keys())
        finally:
            probe.close()


class SqlExtract(Extract):
    """An iterable of text record batches from one table or query.

    Iterating opens a connection, streams the rows and closes it. At least one
    batch is yielded (an empty one with the column names when no row matches).
    `high_watermark` is the greatest cursor value seen, as text, set once the
    iteration has run to its end (None if no row had a cursor value).
    `engine` is the engine that reads ("adbc" or "sqlalchemy"); when it was chosen
    automatically and the ADBC path declines a result (a column type it cannot render
    exactly like SQLAlchemy), the iteration falls back to SQLAlchemy, `engine` becomes
    "sqlalchemy" and `fallback_reason` says why.
    """

    def __init__(
        self,
        url: URL,
        *,
        source: str,
        stream: str,
        table: list[str] | None,
        query: str | None,
        cursor: str | None,
        since: str | None,
        batch_rows: int,
        retry_delays: Sequence[float],
        engine: str = "sqlalchemy",
        engine_forced: bool = True,
        typed: bool = False,
    ) -> None:
        super().__init__(source=source, stream=stream, table=table, query=query, cursor=cursor, since=since,
                         batch_rows=batch_rows, retry_delays=retry_delays)
        self.url = url
        self.typed = typed
        self.engine = engine
        self.engine_forced = engine_forced
        self.fallback_reason: str | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        self.high_watermark = None
        if self.engine == "adbc":
            try:
                from connectors import sql_adbc
            except ImportError as exc:  # installed but unusable (e.g. a broken wheel)
                if self.engine_forced:
                    raise self._error(f"engine 'adbc' cannot be loaded: {exc}") from None
                self._fall_back(f"the ADBC driver cannot be loaded: {exc}")
            else:
                try:
                    # Declined is raised before the first batch, never in the middle of a stream.
                    yield from sql_adbc.read_batches(self)
                    return
                except sql_adbc.Declined as why:
                    if self.engine_forced:
                        raise self._error(f"engine 'adbc' {why}; use engine='sqlalchemy'") from None
                    self._fall_back(str(why))
        yield from self._sqlalchemy_batches()

    def has_rows(self) -> bool:
        """Whether the extract would read at least one row, asked with LIMIT 1 (the cursor's
        index answers it): lets a run skip a stream with nothing past its watermark."""
        with self._session() as (conn, sql, params):
            probe = sa.select(sa.literal_column("1")).select_from(sa.text(sql).columns().subquery("hub_probe"))
            return conn.execute(probe.limit(1), params).first() is not None

    def _fall_back(self, reason: str) -> None:
        self.engine = "sqlalchemy"
        self.fallback_reason = reason

    @contextmanager
    def _session(self) -> Iterator[tuple[Connection, str, dict]]:
        """A connection in Beijing time, this extract's SELECT and its parameters; a driver error
        in the block is a SourceError naming the source (secrets scrubbed)."""
        engine = _engine(self.url, source=self.source)
        try:
            with _connect(engine, source=self.source, retry_delays=self.retry_delays) as conn:
                try:
                    _beijing_session(conn)
                    yield conn, self._select(conn), {} if self.since is None else {"since": self.since}
                except sa.exc.DBAPIError as exc:
                    raise self._error(
                        f"cannot read {self.what} from {mask_url(self.url)}: {_driver_message(exc, self.url)}"
                    ) from exc
        finally:
            engine.dispose()

    def _sqlalchemy_batches(self) -> Iterator[pa.RecordBatch]:
        with self._session() as (conn, sql, params):
            streaming = conn.execution_options(
                stream_results=True, yield_per=self.batch_rows, max_row_buffer=self.batch_rows
            )
            result = streaming.execute(sa.text(sql), params)
            names = list(result.keys())
            # Errors while rows stream are _batches' own ("failed after N rows").
            yield from self._batches(result, names)

    def _batches(self, result: sa.CursorResult, names: list[str]) -> Iterator[pa.RecordBatch]:
        cursor_at = self._result_columns(names)
        top = CursorMax()
        rows_seen = 0
        try:
            for rows in result.partitions(self.batch_rows):
                rows_seen += len(rows)
                yield rows_batch(rows, names, cursor_at, top)
        except sa.exc.DBAPIError as exc:
            raise self._error(
                f"reading {self.what} failed after {rows_seen} rows: {_driver_message(exc, self.url)}"
            ) from exc
        if rows_seen == 0:
            yield empty_batch(names)
        self.high_watermark = render_value(top.value)

    def _select(self, conn: Connection) -> str:
        """The SELECT to run: identifiers resolved and quoted, `since` as a bound parameter."""
        prep = conn.dialect.identifier_preparer
        # Escape colons: text() would take '08:00' or ':x' in the source's SQL for bind parameters.
        source_sql, cursor = self.resolve(
            prep, _SaCatalog(conn), escape_query=lambda q: q.replace(":", "\\:")
        )
        sql = f"SELECT * FROM {source_sql}"
        if cursor is not None and self.since is not None:
            # Untyped bind (text()): the database casts the text to the column's type.
            sql += f" WHERE {prep.quote(cursor)} > :since"
        return sql

    def resolve(
        self, prep, catalog: Catalog, *, escape_query: Callable[[str], str] = lambda q: q
    ) -> tuple[str, str | None]:
        """The FROM item (quoted table, or the query as a subquery) and the cursor column as
        the source spells it. Shared by both engines, so that they read the same rows."""
        cursor = self._cursor
        if self._table is not None:
            *schema, table = self._table
            schema_name = schema[0] if schema else None
            columns: list[str] = []
            try:  # resolve the spelling against the catalogue (case folding); best effort
                known = catalog.relations(schema_name)
                table = pick_column(table, known) or table
                if cursor is not None and table in known:
                    columns = catalog.columns(table, schema_name)
            except catalog.errors:  # e.g. no right to read the catalogue
                catalog.recover()
            source_sql = (prep.quote_schema(schema_name) + "." if schema_name else "") + prep.quote(table)
            if cursor is not None and columns:
                found = pick_column(cursor, columns)
                if found is None:
                    raise self._error(f"cursor column {cursor!r} not found in {self.what}")
                cursor = found
        else:
            query = escape_query(self._query.strip().rstrip(";").strip())
            source_sql = f"({query}) hub_q"  # no AS: Oracle-style dialects reject it for tables
            if cursor is not None and self.since is not None:
                cursor = pick_column(cursor, catalog.result_columns(f"SELECT * FROM {source_sql}")) or cursor
        return source_sql, cursor


def read_sql(
    url: str,
    *,
    source: str,
    stream: str,
    table: str | None = None,
    query: str | None = None,
    cursor: str | None = None,
    since: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    engine: str | None = None,
    typed: bool = False,
) -> SqlExtract:
    """Prepare an extract of `table` (``name`` or ``schema.name``) or `query` (exactly one).

    With `cursor` and `since`, only rows whose cursor is strictly greater than
    `since` are read. Arguments are checked now; the database is contacted when
    the result is iterated.

    `engine`: None picks ADBC for PostgreSQL when adbc-driver-postgresql is installed
    (falling back to SQLAlchemy for results it cannot render identically) and SQLAlchemy
    otherwise; "adbc" or "sqlalchemy" forces one (a forced "adbc" fails instead of falling back).

    `typed`: on the ADBC path, integers, dates and timestamps stay typed Arrow columns
    (timestamptz already as Beijing wall-clock) for a caller that renders them itself, e.g.
    the warehouse casting them in bulk; every other column, and the SQLAlchemy path, is text.
    """
    parts = check_extract(table=table, query=query, cursor=cursor, batch_rows=batch_rows, source=source,
                          stream=stream)
    u = normalize_url(url, source=source)
    chosen = choose_engine(engine, u, source=source, stream=stream)
    return SqlExtract(
        u,
        source=source,
        stream=stream,
        table=parts,
        query=query,
        cursor=cursor,
        since=since,
        batch_rows=batch_rows,
        retry_delays=retry_delays,
        engine=chosen,
        engine_forced=engine is not None,
        typed=typed,
    )
