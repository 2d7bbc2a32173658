"""A PostgreSQL warehouse (HUB_WAREHOUSE=postgresql://…): computed in DuckDB, published to PostgreSQL.

sources.md lets HUB_WAREHOUSE be a PostgreSQL URL, for departments that share a server. The
normalisation, the row rules and the merge are DuckDB SQL with vectorised Python functions, so the
hub keeps computing in DuckDB, in a working copy on local disk (`working_copy`), and publishes
the model to PostgreSQL at the end of every run (the `meta/postgres_publication` asset):

- every table of the five schemas, with the same schema, table and column names and the Chinese
  comments; the share views become tables (a snapshot of the run), since their SQL is DuckDB's;
  columns keep their types (JSON as jsonb, so `raw ->> '字段'` works; DuckDB's HUGEINT sums as
  bigint; UBIGINT and DECIMAL as numeric; INTERVAL as interval);
- in one transaction, under an advisory lock: readers see the previous run or this one, never half;
- only tables whose content changed since they were last published are written (a fingerprint
  per table, kept in PostgreSQL's meta.published_tables): raw tables receive the batches
  PostgreSQL does not hold yet, core entity tables the rows of those batches by business key,
  and any other table is replaced.

PostgreSQL is the warehouse of record: when the working copy is missing (a new machine, a lost
disk), `restore` rebuilds it from PostgreSQL before anything runs, so watermarks, the file ledger,
row versions and open quarantine entries carry on instead of loading everything again.
One hub writes one PostgreSQL warehouse (as DuckDB has one writer): two hubs publishing into the
same database would replace each other's tables.
"""

from __future__ import annotations

import hashlib
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from warehouse.connection import WarehouseError
from warehouse.sql import quote_ident

SCHEMAS = ("raw", "core", "quality", "share", "meta")
PUBLISHED = "meta.published_tables"  # in PostgreSQL only: what each table held when last published
MARKER = "meta.publication"  # in the working copy: the last successful publication
# Besides raw: tables that only ever gain rows, each stamped with its batch (they grow every run).
APPEND_ONLY = ("meta.batches", "quality.expectation_results")
LOCK = "licensing-hub publication"
BATCH_ROWS = 100_000

# DuckDB type → PostgreSQL column type (as information_schema spells it) for the types Arrow
# carries as they are; `pg_type` below handles the others.
PG_TYPES = {
    "VARCHAR": "text",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
}
# Types that travel as text and are cast by PostgreSQL on the way in (and read back as text).
CAST_IN = ("jsonb", "interval", "numeric")


@dataclass(frozen=True)
class PgColumn:
    name: str
    ddl: str  # the column type in CREATE TABLE
    kind: str  # as information_schema spells it
    select: str  # the DuckDB expression Arrow carries

    @property
    def cast_in(self) -> bool:
        return self.kind in CAST_IN


def pg_column(name: str, duckdb_type: str) -> PgColumn:
    """How one DuckDB column is published: JSON as jsonb, INTERVAL as interval, DECIMAL and UBIGINT
    as numeric (exact), HUGEINT (DuckDB's sums) as bigint, anything else unknown as text."""
    col = quote_ident(name)
    text = f"CAST({col} AS VARCHAR) AS {col}"
    if duckdb_type in PG_TYPES:
        return PgColumn(name, PG_TYPES[duckdb_type], PG_TYPES[duckdb_type], col)
    if duckdb_type == "HUGEINT":  # a count or a sum of counts; an overflow fails the publication
        return PgColumn(name, "bigint", "bigint", f"CAST({col} AS BIGINT) AS {col}")
    if duckdb_type == "JSON":
        return PgColumn(name, "jsonb", "jsonb", text)
    if duckdb_type == "INTERVAL":
        return PgColumn(name, "interval", "interval", text)
    if duckdb_type == "UBIGINT":
        return PgColumn(name, "numeric(20,0)", "numeric", text)
    if duckdb_type.startswith("DECIMAL"):
        return PgColumn(name, duckdb_type.replace("DECIMAL", "numeric"), "numeric", text)
    return PgColumn(name, "text", "text", text)


class PostgresWarehouseError(WarehouseError):
    """The PostgreSQL warehouse could not be reached, read or written (the message names it)."""


def masked(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def working_copy(url: str) -> Path:
    """The local DuckDB file the hub computes in for this PostgreSQL warehouse.

    HUB_WAREHOUSE_CACHE names the folder (default ~/.cache/licensing-hub); the file is named after
    the server, port and database, so two warehouses never share a working copy.
    """
    parts = urlsplit(url)
    folder = Path(os.environ.get("HUB_WAREHOUSE_CACHE") or Path.home() / ".cache" / "licensing-hub")
    database = parts.path.lstrip("/") or parts.username or "postgres"
    name = f"{parts.hostname or 'localhost'}-{parts.port or 5432}-{database}"
    return folder.expanduser() / ("".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) + ".duckdb")


def _adbc_url(url: str) -> str:
    # SQLAlchemy-style URLs (postgresql+psycopg://) name a driver; libpq wants the plain scheme.
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def connect_pg(url: str):
    import adbc_driver_postgresql.dbapi as pg

    try:
        return pg.connect(_adbc_url(url))
    except Exception as exc:  # noqa: BLE001 - any driver error: name the warehouse, never the password
        text = " ".join(str(exc).replace(url, masked(url)).split())
        raise PostgresWarehouseError(f"PostgreSQL warehouse {masked(url)}: cannot connect ({text[:300]})") from None


def check_reachable(url: str) -> None:
    """Fail before a run extracts anything when the PostgreSQL warehouse cannot be reached."""
    connect_pg(url).close()


@dataclass
class Relation:
    schema: str
    name: str
    is_view: bool
    comment: str | None
    columns: list[tuple[str, str, str | None]] = field(default_factory=list)  # (name, DuckDB type, comment)

    @property
    def qualified(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}"

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    def published_columns(self) -> list[PgColumn]:
        return [pg_column(name, kind) for name, kind, _ in self.columns]

    def pg_columns(self) -> list[tuple[str, str]]:
        """(name, type) as PostgreSQL's information_schema will report them."""
        return [(c.name, c.kind) for c in self.published_columns()]

    def select(self) -> str:
        """The relation's rows as Arrow should carry them to PostgreSQL."""
        return f"SELECT {', '.join(c.select for c in self.published_columns())} FROM {self.qualified}"


def relations(con) -> list[Relation]:
    """The warehouse's tables and views in the five schemas, with their columns and comments."""
    in_model = "database_name = current_database() AND schema_name IN ('raw', 'core', 'quality', 'share', 'meta')"
    found: dict[str, Relation] = {}
    for catalogue, name_column, is_view in (("duckdb_tables()", "table_name", False),
                                            ("duckdb_views()", "view_name", True)):
        for schema, name, comment in con.execute(
            f"SELECT schema_name, {name_column}, comment FROM {catalogue}"
            f" WHERE {in_model} AND NOT temporary{' AND NOT internal' if is_view else ''} ORDER BY 1, 2"
        ).fetchall():
            found[f"{schema}.{name}"] = Relation(schema, name, is_view, comment)
    for schema, name, column, kind, comment in con.execute(
        "SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns()"
        f" WHERE {in_model} ORDER BY schema_name, table_name, column_index"
    ).fetchall():
        if f"{schema}.{name}" in found:
            found[f"{schema}.{name}"].columns.append((column, kind, comment))
    return list(found.values())


def _fingerprint(con, rel: Relation) -> str:
    """What the relation holds: its PostgreSQL columns and, for raw (append-only), its row count and
    last load; for every other relation its row count and a hash over all its rows."""
    shape = repr(rel.pg_columns())
    if rel.schema == "raw" and any(c[0] == "_loaded_at" for c in rel.columns):
        state = con.execute(f"SELECT count(*), max(_loaded_at) FROM {rel.qualified}").fetchall()[0]
    else:
        cols = ", ".join(quote_ident(c[0]) for c in rel.columns)
        state = con.execute(f"SELECT count(*), sum(hash({cols})) FROM {rel.qualified}").fetchall()[0]
    return hashlib.sha256(f"{shape}|{state}".encode()).hexdigest()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Publication:
    published: dict[str, int] = field(default_factory=dict)  # relation → rows written
    seconds_per_table: dict[str, float] = field(default_factory=dict)  # relation → seconds to write it
    unchanged: int = 0
    seconds: float = 0.0


def publish(con, url: str) -> Publication:
    """Publish what changed in the working copy `con` to the PostgreSQL warehouse `url`."""
    started = time.monotonic()
    rels = [rel for rel in relations(con) if rel.key != MARKER]  # (the marker is the copy's own)
    result = Publication()
    pg = connect_pg(url)
    try:
        cur = pg.cursor()
        cur.execute(f"SELECT pg_advisory_xact_lock(hashtext({_literal(LOCK)}))")
        for schema in SCHEMAS:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        cur.execute(f"SELECT to_regclass({_literal(PUBLISHED)}) IS NOT NULL")
        if not cur.fetchone()[0]:
            cur.execute(f"CREATE TABLE {PUBLISHED} (table_name text PRIMARY KEY, fingerprint text NOT NULL,"
                        " published_at timestamp NOT NULL)")
            cur.execute(f"COMMENT ON TABLE {PUBLISHED} IS '发布记录：每张表最近一次发布到 PostgreSQL 时的内容指纹'")
        cur.execute(f"SELECT table_name, fingerprint FROM {PUBLISHED}")
        known = dict(cur.fetchall())
        cur.execute(
            "SELECT table_schema || '.' || table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema IN ('raw', 'core', 'quality', 'share', 'meta') ORDER BY table_schema, table_name,"
            " ordinal_position"
        )
        pg_columns: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in cur.fetchall():
            pg_columns.setdefault(table, []).append((column, kind))
        published_batches = _published_batches(cur, pg_columns)
        _refuse_stale_copy(con, url, published_batches)
        for rel in rels:
            fingerprint = _fingerprint(con, rel)
            if known.get(rel.key) == fingerprint and rel.key in pg_columns:
                result.unchanged += 1
                continue
            table_started = time.monotonic()
            result.published[rel.key] = _publish_relation(con, cur, rel, pg_columns.get(rel.key), published_batches)
            result.seconds_per_table[rel.key] = round(time.monotonic() - table_started, 3)
            cur.execute(
                f"INSERT INTO {PUBLISHED} VALUES ({_literal(rel.key)}, {_literal(fingerprint)}, now())"
                " ON CONFLICT (table_name) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
                " published_at = EXCLUDED.published_at"
            )
        pg.commit()
    except PostgresWarehouseError:
        pg.rollback()
        raise
    except Exception as exc:  # noqa: BLE001 - a driver error: name the warehouse; nothing was committed
        pg.rollback()
        raise PostgresWarehouseError(
            f"PostgreSQL warehouse {masked(url)}: publication rolled back ({' '.join(str(exc).split())[:400]})"
        ) from exc
    finally:
        pg.close()
    # The working copy remembers that it was published: should PostgreSQL later hold no hub
    # (emptied, recreated), this copy is not published back into it (see `stale_reason`).
    _mark_published(con, url)
    result.seconds = time.monotonic() - started
    return result


def _mark_published(con, url: str) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (warehouse VARCHAR NOT NULL, published_at TIMESTAMP NOT NULL)")
    con.execute(f"DELETE FROM {MARKER}")
    con.execute(f"INSERT INTO {MARKER} VALUES ($1, now()::TIMESTAMP)", [masked(url)])


def _published_batches(cur, pg_columns: dict) -> set[str]:
    if "meta.batches" not in pg_columns:
        return set()
    cur.execute("SELECT _batch_id FROM meta.batches")
    return {row[0] for row in cur.fetchall()}


def _refuse_stale_copy(con, url: str, published_batches: set[str]) -> None:
    """Publishing replaces tables: a working copy that lacks batches PostgreSQL holds (another hub
    published into the same database since this run began) would take them away. Refuse, under the
    advisory lock, and say how to get a current copy (`prepare_working_copy` has already brought
    an older copy up to date at the start of the run)."""
    missing = sorted(published_batches - _local_batches(con))
    if missing:
        raise PostgresWarehouseError(
            f"PostgreSQL warehouse {masked(url)}: it holds {len(missing)} batch(es) this working copy does not"
            f" (e.g. {missing[0]}): another hub publishes into it, or the working copy is older than it. Nothing"
            f" was published; move the working copy {_file_of(con)} away and run again to restore it from"
            " PostgreSQL."
        )


def _local_batches(con) -> set[str]:
    """The batch ids of the working copy (meta.batches holds one small row per batch)."""
    if not _has_table(con, "meta.batches"):
        return set()
    return {b for (b,) in con.execute("SELECT _batch_id FROM meta.batches").fetchall()}


def _has_table(con, name: str) -> bool:
    schema, table = name.split(".")
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
                       " AND schema_name = $1 AND table_name = $2", [schema, table]).fetchall()[0][0] > 0


@contextmanager
def _published_view(con, published_batches: set[str]):
    """The batch ids PostgreSQL holds, as the relation `hub_published_batches` on `con`."""
    import pyarrow as pa

    con.register("hub_published_batches", pa.table({"_batch_id": pa.array(sorted(published_batches), pa.string())}))
    try:
        yield
    finally:
        con.unregister("hub_published_batches")


def _file_of(con) -> str:
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return row[0][0] if row and row[0][0] else "(in memory)"


def _same_shape(rel: Relation, existing: list[tuple[str, str]] | None) -> bool:
    return existing is not None and existing == rel.pg_columns()


@dataclass(frozen=True)
class Delta:
    """How a table's rows changed since the last publication are found from batch ids.

    `stamps`: the batch columns; a row whose stamp names a batch PostgreSQL does not hold yet is
    new or changed. `key`: what such a row replaces in PostgreSQL (empty: the table only gains rows).
    """

    stamps: tuple[str, ...] = ("_batch_id",)
    key: tuple[str, ...] = ()


def _delta(rel: Relation) -> Delta | None:
    """Raw and the other append-only tables gain rows; core entity tables, which only the merge
    writes, replace whole rows by business key, each stamped with the new batch; a quarantine
    entry changes when it is added or resolved (`resolved_batch_id`). None: the table is replaced
    (core.license: the golden rebuild and the expiry update keep older batch ids)."""
    from warehouse.model import ENTITIES

    if not any(c[0] == "_batch_id" for c in rel.columns):
        return None
    if rel.schema == "raw" or rel.key in APPEND_ONLY:
        return Delta()
    if rel.schema == "core" and rel.name in ENTITIES and rel.name != "license":
        return Delta(key=ENTITIES[rel.name].key)
    if rel.key == "core.license_record":  # the merge replaces a source's record of a licence
        return Delta(key=("_source", "license_no"))
    if rel.key == "quality.quarantine":
        return Delta(stamps=("_batch_id", "resolved_batch_id"), key=("_batch_id", "_row_no", "reason"))
    return None


def _publish_relation(con, cur, rel: Relation, existing, published_batches: set[str]) -> int:
    """Write one relation's changes to PostgreSQL; returns the rows written.

    Rows stamped with batches PostgreSQL does not hold are appended (raw) or replace the rows with
    their key (`_delta`); should the row counts then differ, or the columns have changed, the table
    is replaced whole.
    """
    select = rel.select()
    delta = _delta(rel)
    key = delta.key if delta else None
    if delta is not None and _same_shape(rel, existing):
        with _published_view(con, published_batches):
            changed = " OR ".join(
                f"({quote_ident(c)} IS NOT NULL AND {quote_ident(c)} NOT IN (SELECT _batch_id FROM hub_published_batches))"
                for c in delta.stamps
            )
            new_rows = f"{select} WHERE {changed}"
            if key:
                written = _stage(con, cur, rel, new_rows)
                cur.execute("ANALYZE hub_publish_rows")  # (without statistics the planner may loop over the table)
                same_key = " AND ".join(f"t.{quote_ident(k)} = n.{quote_ident(k)}" for k in key)
                cur.execute(f"DELETE FROM {rel.qualified} t USING hub_publish_rows n WHERE {same_key}")
                cur.execute(f"INSERT INTO {rel.qualified} SELECT {_cast_in(rel)} FROM hub_publish_rows")
                cur.execute("DROP TABLE hub_publish_rows")
            else:
                written = _ingest(con, cur, rel, new_rows)
        cur.execute(f"SELECT count(*) FROM {rel.qualified}")
        if cur.fetchone()[0] == con.execute(f"SELECT count(*) FROM {rel.qualified}").fetchall()[0][0]:
            return written
    created = not _same_shape(rel, existing)
    if not created:
        cur.execute(f"TRUNCATE {rel.qualified}")
    else:
        if existing is not None:
            cur.execute(f"DROP TABLE {rel.qualified}")
        columns = ", ".join(f"{quote_ident(c.name)} {c.ddl}" for c in rel.published_columns())
        cur.execute(f"CREATE TABLE {rel.qualified} ({columns})")
        kind = "快照（DuckDB 视图在 PostgreSQL 中发布为表）" if rel.is_view else ""
        if rel.comment or kind:
            cur.execute(f"COMMENT ON TABLE {rel.qualified} IS {_literal((rel.comment or '') + kind)}")
        for name, _kind, comment in rel.columns:
            if comment:
                cur.execute(f"COMMENT ON COLUMN {rel.qualified}.{quote_ident(name)} IS {_literal(comment)}")
    written = _ingest(con, cur, rel, select)
    if created and key is not None:  # the next publication's lookups (and departments', by key)
        cur.execute(f"CREATE INDEX ON {rel.qualified} ({', '.join(quote_ident(k) for k in key or ('_batch_id',))})")
    return written


def _ingest(con, cur, rel: Relation, query: str) -> int:
    """Append the rows of `query` to the relation's PostgreSQL table (through a text stage where
    PostgreSQL must cast a column: jsonb, interval, numeric)."""
    if not any(c.cast_in for c in rel.published_columns()):
        reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
        return cur.adbc_ingest(rel.name, reader, mode="append", db_schema_name=rel.schema) or 0
    written = _stage(con, cur, rel, query)
    cur.execute(f"INSERT INTO {rel.qualified} SELECT {_cast_in(rel)} FROM hub_publish_rows")
    cur.execute("DROP TABLE hub_publish_rows")
    return written


def _stage(con, cur, rel: Relation, query: str) -> int:
    """The rows of `query` in a temporary table hub_publish_rows, typed as Arrow carries them."""
    carried = ", ".join(f"{quote_ident(c.name)} {'text' if c.cast_in else c.ddl}" for c in rel.published_columns())
    cur.execute(f"CREATE TEMP TABLE hub_publish_rows ({carried}) ON COMMIT DROP")
    reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
    return cur.adbc_ingest("hub_publish_rows", reader, mode="append", temporary=True) or 0


def _cast_in(rel: Relation) -> str:
    return ", ".join(
        f"CAST({quote_ident(c.name)} AS {c.ddl})" if c.cast_in else quote_ident(c.name) for c in rel.published_columns()
    )


def stale_reason(url: str, path: Path) -> str | None:
    """Why the working copy `path` cannot serve the PostgreSQL warehouse `url` as it is (None: it
    can): it is missing; PostgreSQL was emptied or recreated since this copy was published to it
    (publishing the copy back would bring deleted rows back to life); or PostgreSQL holds batches
    the copy lacks (an older copy, e.g. from a backup). Raises when both hold batches the other
    lacks: two hubs wrote the warehouse, and neither side may replace the other."""
    if not path.exists():
        return "no working copy of the PostgreSQL warehouse here"
    local = _local_state(path)
    if local is None:  # another process is writing the copy: it is the one in use
        return None
    local_batches, published_before = local
    has_hub, pg_batches = _pg_state(url)
    if not has_hub:
        return ("the PostgreSQL warehouse no longer holds what this working copy published to it"
                " (emptied or recreated)") if published_before else None
    missing = pg_batches - local_batches
    if not missing:
        return None
    if local_batches - pg_batches:
        raise PostgresWarehouseError(
            f"PostgreSQL warehouse {masked(url)}: it holds {len(missing)} batch(es) the working copy {path} lacks,"
            f" and the copy holds {len(local_batches - pg_batches)} it lacks: two hubs wrote this warehouse."
            " Nothing was changed; keep one hub per warehouse, move the working copy away and run again to"
            " restore it from PostgreSQL."
        )
    return f"PostgreSQL holds {len(missing)} batch(es) the working copy lacks (an older copy)"


def prepare_working_copy(url: str, path: Path) -> None:
    """Make the working copy current before a run writes it: restore it from PostgreSQL when it
    is missing or older; start afresh when PostgreSQL was emptied. A replaced copy is kept beside,
    renamed `*.stale-<time>.duckdb`."""
    reason = stale_reason(url, path)
    if reason is None:
        return
    if path.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for old in (path, path.with_name(path.name + ".wal")):
            if old.exists():
                old.rename(old.with_name(old.name.replace(".duckdb", f".stale-{stamp}.duckdb")))
    restore(url, path)  # (False when PostgreSQL holds no hub: the run starts a new copy)


def _local_state(path: Path) -> tuple[set[str], bool] | None:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException):  # open for writing, here or elsewhere
        return None
    try:
        published = _has_table(con, MARKER) and con.execute(f"SELECT count(*) FROM {MARKER}").fetchall()[0][0] > 0
        return _local_batches(con), published
    finally:
        con.close()


def _pg_state(url: str) -> tuple[bool, set[str]]:
    pg = connect_pg(url)
    try:
        cur = pg.cursor()
        cur.execute(f"SELECT to_regclass({_literal(PUBLISHED)}) IS NOT NULL, to_regclass('meta.batches') IS NOT NULL")
        has_hub, has_batches = cur.fetchone()
        if not (has_hub and has_batches):
            return bool(has_hub), set()
        cur.execute("SELECT _batch_id FROM meta.batches")
        return True, {row[0] for row in cur.fetchall()}
    finally:
        pg.close()


def restore(url: str, path: Path) -> bool:
    """Rebuild the working copy `path` from the PostgreSQL warehouse; False when it holds no hub yet.

    Written to a temporary file first and renamed, so an interrupted restore leaves no half copy.
    """
    import duckdb

    from warehouse.connection import configure
    from warehouse.schema import create_schema  # (imports warehouse.connection too)

    pg = connect_pg(url)
    try:
        cur = pg.cursor()
        cur.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN"
            " ('raw', 'core', 'quality', 'meta') AND table_type = 'BASE TABLE' ORDER BY 1, 2"
        )
        tables = [(s, t) for s, t in cur.fetchall() if f"{s}.{t}" != PUBLISHED]
        if ("meta", "schema_version") not in tables:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".restoring")
        for stale in (partial, partial.with_name(partial.name + ".wal")):
            stale.unlink(missing_ok=True)
        con = configure(duckdb.connect(str(partial)))
        try:
            create_schema(con)
            have = {
                (s, t)
                for s, t in con.execute(
                    "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
                ).fetchall()
            }
            cur.execute(
                "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns"
                " WHERE table_schema IN ('raw', 'core', 'quality', 'meta') ORDER BY ordinal_position"
            )
            columns: dict[tuple[str, str], list[str]] = {}
            for schema, table, column, kind in cur.fetchall():
                col = quote_ident(column)
                # jsonb, interval and numeric come back as text; DuckDB casts them into its types.
                columns.setdefault((schema, table), []).append(f"{col}::text AS {col}" if kind in CAST_IN else col)
            for schema, table in tables:
                name = f"{quote_ident(schema)}.{quote_ident(table)}"
                cur.execute(f"SELECT {', '.join(columns[(schema, table)])} FROM {name}")
                con.register("hub_restored", cur.fetch_record_batch())
                if (schema, table) in have:
                    con.execute(f"DELETE FROM {name}")
                    con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM hub_restored")
                else:
                    con.execute(f"CREATE TABLE {name} AS SELECT * FROM hub_restored")
                con.unregister("hub_restored")
            _mark_published(con, url)  # the copy now mirrors PostgreSQL
            con.execute("CHECKPOINT")
        finally:
            con.close()
        partial.replace(path)
        return True
    except PostgresWarehouseError:
        raise
    except Exception as exc:  # noqa: BLE001 - name the warehouse; the working copy is not replaced
        raise PostgresWarehouseError(
            f"PostgreSQL warehouse {masked(url)}: could not restore the working copy {path}"
            f" ({' '.join(str(exc).split())[:400]})"
        ) from exc
    finally:
        pg.close()
