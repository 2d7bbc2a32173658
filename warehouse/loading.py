"""One extraction batch from landing to merge, in one transaction.

raw (append, with lineage) → stage (SQL normalisation) → row rules (quality/) → quarantine →
merge into core → meta.batches → watermark or file ledger → COMMIT. A failure anywhere rolls the
whole batch back, so a killed or failed run leaves either the old state or the new one, and the
watermark can never run ahead of the data.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.text import text_array
from quality.row_rules import failing_rules, violations_query
from warehouse.model import ENTITIES, Entity
from warehouse.normalise import stage_select, with_stage_aliases
from warehouse.sql import Params, insert_rows, quote_ident, table_name

if TYPE_CHECKING:  # pragma: no cover
    from pipelines.config import StreamConfig


class LoadError(RuntimeError):
    """A batch could not be loaded; the message names the stream; nothing of it was kept."""


@dataclass
class BatchResult:
    stream: str
    batch_id: str | None
    extracted: int = 0
    loaded: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    file: str | None = None
    watermark: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # per step: land, stage, validate, …
    unchanged: int = 0  # rows read again but identical to what was landed before (not in the batch)


def beijing_now() -> datetime:
    """Wall-clock time in Beijing, without zone, like every timestamp in the warehouse."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)


def new_batch_id() -> str:
    """Sortable and unique: UTC time to the microsecond plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


def raw_table(stream: StreamConfig) -> str:
    return table_name("raw", f"{stream.source}__{stream.name}")


def register_source(con, stream: StreamConfig, *, department: str, label: str, kind: str,
                    config_sha: str | None = None) -> None:
    """meta.sources' row of the stream, written only when it changed (a write is a commit)."""
    row = [stream.qualified_name, stream.source, stream.name, stream.entity, department, label, kind, config_sha]
    have = con.execute(
        "SELECT _source, source, stream, entity, department, label, kind, config_sha FROM meta.sources"
        " WHERE _source = $1", [stream.qualified_name],
    ).fetchone()
    if have is not None and list(have) == row:
        return
    con.execute(
        "INSERT OR REPLACE INTO meta.sources (_source, source, stream, entity, department, label, kind, config_sha)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        row,
    )


def watermark(con, stream: StreamConfig) -> str | None:
    row = con.execute("SELECT value FROM meta.watermarks WHERE _source = $1", [stream.qualified_name]).fetchone()
    return row[0] if row else None


class LedgerEntry(NamedTuple):
    """A file of an exchange folder as meta.files records it once it has loaded."""

    path: str
    size: int
    sha256: str
    ctime_ns: int | None = None  # lets a later run trust the hash without reading the file


def loaded_files(con, stream: StreamConfig) -> dict[tuple[str, int, str], int | None]:
    """(path, size, sha256) → ctime_ns of every file of the stream's ledger."""
    rows = con.execute(
        "SELECT path, size, sha256, ctime_ns FROM meta.files WHERE _source = $1", [stream.qualified_name]
    ).fetchall()
    return {(p, s, h): c for p, s, h, c in rows}


def record_ctime(con, stream: StreamConfig, file: LedgerEntry) -> None:
    """Give a ledgered file the inode change time just seen: one ledgered by an older version
    (none kept), or one whose inode changed with its content the same (a folder restored or
    copied, a chmod), which would otherwise be hashed again at every run."""
    con.execute(
        "UPDATE meta.files SET ctime_ns = $1 WHERE _source = $2 AND path = $3 AND size = $4 AND sha256 = $5",
        [file.ctime_ns, stream.qualified_name, file.path, file.size, file.sha256],
    )


def record_file(con, stream: StreamConfig, file: LedgerEntry, batch_id: str) -> None:
    con.execute(
        "INSERT INTO meta.files (_source, path, size, sha256, _batch_id, loaded_at, ctime_ns)"
        " VALUES ($1, $2, $3, $4, $5, now()::TIMESTAMP, $6)",
        [stream.qualified_name, file.path, file.size, file.sha256, batch_id, file.ctime_ns],
    )


RAW_LINEAGE = ("_row_no", "_source", "_source_key", "_batch_id", "_loaded_at")
# The TEMP view of a batch's normalised rows while the batch is open: what is validated, quarantined
# and merged (quality.gx_duckdb prepares its GX batch for this name ahead of the validation).
STAGE = "hub_stage"


def _raw_column_types(con, table: str) -> dict[str, str]:
    """Source column → type of a raw table, in table order (its lineage columns left out)."""
    # The relation's own columns: information_schema.columns lists the whole catalog (2 ms a call,
    # three calls a batch). Its types read as information_schema spells them.
    rel = con.sql(f"SELECT * FROM {table}")
    return {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True) if c not in RAW_LINEAGE}


def _ensure_raw_table(con, table: str, incoming: dict[str, str]) -> dict[str, str]:
    """Create or widen the raw table for a chunk (`incoming`: its source columns' DuckDB types, in
    order); returns the raw table's source columns' types.

    A column keeps the type the source gave it: text, or the integers, dates and timestamps a
    bulk reader passes typed (writing them as they came costs half of casting them to text). A
    later chunk whose type differs (the engine fell back to text, the source column changed)
    turns the raw column into text, its earlier values rendered as connectors.text renders them.
    """
    cols = ", ".join(f"{quote_ident(c)} {t}" for c, t in incoming.items())
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (_row_no BIGINT NOT NULL, {cols}, _source VARCHAR NOT NULL,"
        " _source_key VARCHAR, _batch_id VARCHAR NOT NULL, _loaded_at TIMESTAMP NOT NULL)"
    )
    have = _raw_column_types(con, table)
    for c, t in incoming.items():
        if c not in have:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {quote_ident(c)} {t}")
        elif have[c] not in ("VARCHAR", t):
            as_text = _as_text(quote_ident(c), _arrow_type_of(have[c]))
            con.execute(f"ALTER TABLE {table} ALTER {quote_ident(c)} SET DATA TYPE VARCHAR USING {as_text}")
    return _raw_column_types(con, table)


def _arrow_type_of(duckdb_type: str) -> pa.DataType:
    """Enough of the Arrow type for _as_text: timestamps are rendered apart, the rest by CAST."""
    return pa.timestamp("us") if duckdb_type.startswith("TIMESTAMP") else pa.int64()


def _match_case(rb: pa.RecordBatch, needed: list[str]) -> pa.RecordBatch:
    """Spell source columns as the sources file does when they differ only in case.

    PostgreSQL folds unquoted names to lower case, Oracle-heritage systems to upper case, while a
    sources file keeps the names of the department's documentation (XKZBH): both mean one column.
    """
    names = list(rb.schema.names)
    lower = {}
    for name in names:
        lower.setdefault(name.lower(), []).append(name)
    renamed = False
    for column in needed:
        if column not in names and len(lower.get(column.lower(), [])) == 1:
            names[names.index(lower[column.lower()][0])] = column
            renamed = True
    return rb.rename_columns(names) if renamed else rb


def _as_text(column: str, arrow_type: pa.DataType) -> str:
    """SQL rendering a typed column (integers, dates, Beijing timestamps from a bulk reader) as the
    connectors' text path does (whole seconds without a fraction, else .ffffff): for the stage, a
    raw column that is text, and the quarantine's JSON."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return column
    if pa.types.is_timestamp(arrow_type):
        return (
            f"CASE WHEN epoch_us({column}) % 1000000 = 0 THEN CAST({column} AS VARCHAR)"
            f" ELSE strftime({column}, '%Y-%m-%d %H:%M:%S.%f') END"
        )
    return f"CAST({column} AS VARCHAR)"


def _is_wall_clock(arrow_type: pa.DataType) -> bool:
    """A date, or a timestamp without zone (bulk readers give Beijing wall-clock time so)."""
    return pa.types.is_date(arrow_type) or (pa.types.is_timestamp(arrow_type) and arrow_type.tz is None)


def _source_key(rows: pa.Table, key: tuple[str, ...]) -> pa.ChunkedArray:
    """The source's key as text, several columns joined with '|' (NULL as empty). A typed key
    column is rendered by the connectors' text rules, so the key is the same whichever engine
    read the row (Arrow's own cast writes a timestamp with '.000000')."""
    parts = [
        pc.fill_null(pa.chunked_array([text_array(c) for c in rows.column(k).chunks], pa.string()), "")
        for k in key
    ]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, "|")


def prefetched(batches: Iterable[pa.RecordBatch], max_bytes: int) -> Iterator[pa.RecordBatch]:
    """Read the next batches in a thread while the warehouse writes the ones before.

    The source driver and DuckDB both release the GIL, so extraction and landing overlap. The
    reader may run up to `max_bytes` of batches ahead (at least one batch): as much as one landed
    chunk, so it keeps reading for as long as DuckDB inserts and stages the chunk before (with
    two batches of slack it stalled after a tenth of a second and waited a full second). Memory
    stays bounded by that budget. An error on either side stops both.
    """
    ready: deque = deque()
    held = 0  # bytes in `ready`
    cond = threading.Condition()
    stop = False
    done = object()

    def put(item, size: int) -> bool:
        nonlocal held
        with cond:
            while not stop and ready and held + size > max_bytes:
                cond.wait()
            if stop:
                return False
            ready.append((item, size))
            held += size
            cond.notify_all()
            return True

    def produce() -> None:
        try:
            for item in batches:
                if not put(item, item.nbytes):
                    return
            put(done, 0)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc, 0)

    worker = threading.Thread(target=produce, name="hub-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            with cond:
                while not ready:
                    cond.wait()
                item, size = ready.popleft()
                held -= size
                cond.notify_all()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        with cond:
            stop = True
            ready.clear()
            cond.notify_all()
        worker.join()


def _constant(value, n: int, type_: pa.DataType) -> pa.Array:
    """A column holding one value n times, stored once (dictionary-encoded)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int8)), pa.array([value], type_))


# Rows gathered before one INSERT into raw and the stage: DuckDB works best on large inserts (a
# million rows land in half the time as 5 × 200,000 than as 10 × 100,000), while the gathered
# Arrow chunk bounds memory: whichever limit comes first.
LAND_ROWS = 500_000
LAND_BYTES = 96 * 1024 * 1024


def _land(
    con,
    stream: StreamConfig,
    batches: Iterable[pa.RecordBatch],
    batch_id: str,
    loaded_at,
    stage: Callable[[str, bool, set[str], dict], None] | None = None,
) -> int:
    """Append the source rows to raw as they came, numbering them within the batch.

    `stage` receives each landed chunk as a relation shaped like raw (whether it is the batch's
    first, which columns hold date or timestamp values rather than text, and the relation's
    parameters) and normalises it at once: DuckDB works on one chunk while the prefetch thread
    extracts the next.
    """
    table = raw_table(stream)
    needed = stream.source_columns()
    seen: set[str] = set()
    landed_schema: pa.Schema | None = None
    raw_types: dict[str, str] = {}
    pending: list[pa.RecordBatch] = []
    n = 0

    def flush() -> None:
        nonlocal n, landed_schema, raw_types
        if not pending:
            return
        rows = pa.Table.from_batches(pending)
        pending.clear()
        source_schema = rows.schema
        count = rows.num_rows
        cols = ", ".join(quote_ident(c) for c in source_schema.names)
        # numpy, not range(): Arrow converts a Python range one int at a time (0.2–0.4 s per chunk).
        rows = rows.append_column("_row_no", pa.array(np.arange(n + 1, n + 1 + count, dtype=np.int64)))
        rows = rows.append_column("_source_key", _source_key(rows, stream.key))
        # The lineage values travel as columns: a relation's query takes no parameters.
        rows = rows.append_column("_source", _constant(stream.qualified_name, count, pa.string()))
        rows = rows.append_column("_batch_id", _constant(batch_id, count, pa.string()))
        rows = rows.append_column("_loaded_at", _constant(loaded_at, count, pa.timestamp("us")))
        # A relation over the chunk, not `con.register`: inside an open transaction DuckDB keeps a
        # registered Arrow table alive until the transaction ends, even after `unregister`, so a
        # batch's every chunk stayed in memory (a 3-million-row load peaked at 1.9 GB).
        incoming = con.from_arrow(rows)
        if source_schema != landed_schema:
            described = incoming.query("hub_incoming", f"DESCRIBE SELECT {cols} FROM hub_incoming").fetchall()
            raw_types = _ensure_raw_table(
                con, table, {name: "VARCHAR" if sql_type == "NULL" else sql_type for name, sql_type, *_ in described}
            )
            landed_schema = source_schema
        # Typed source columns land typed where raw keeps them typed, else as text.
        landed = ", ".join(
            _as_text(quote_ident(f.name), f.type) if raw_types[f.name] == "VARCHAR" else quote_ident(f.name)
            for f in source_schema
        )
        incoming.query(
            "hub_incoming",
            f"INSERT INTO {table} (_row_no, {cols}, _source, _source_key, _batch_id, _loaded_at)"
            f" SELECT _row_no, {landed}, _source, _source_key, _batch_id, _loaded_at FROM hub_incoming",
        )
        del incoming
        if stage is not None:
            # The stage reads the chunk back from raw (it is DuckDB's now): dates and timestamps
            # as values, every other column as text (the cursor too: its text is kept in
            # core.license_record._cursor, rendered as the text path does).
            temporal = {
                f.name for f in source_schema
                if _is_wall_clock(f.type) and raw_types[f.name] != "VARCHAR" and f.name != stream.cursor
            }
            for_stage = ", ".join(
                quote_ident(f.name) if f.name in temporal or raw_types[f.name] == "VARCHAR"
                else f"{_as_text(quote_ident(f.name), f.type)} AS {quote_ident(f.name)}"
                for f in source_schema
            )
            chunk = (
                f"(SELECT _row_no, _source_key, {for_stage} FROM {table}"
                " WHERE _batch_id = $chunk_batch AND _row_no BETWEEN $chunk_first AND $chunk_last)"
            )
            stage(chunk, n == 0, temporal, {"chunk_batch": batch_id, "chunk_first": n + 1, "chunk_last": n + count})
        n += count

    for rb in batches:
        if rb.num_rows == 0:
            seen.update(rb.schema.names)
            continue
        rb = _match_case(rb, needed)
        seen.update(rb.schema.names)
        for column in needed:
            if column not in rb.schema.names:
                # JSON sources may omit a key in some records: absent is empty for this batch.
                rb = rb.append_column(column, pa.nulls(rb.num_rows, pa.string()))
        if pending and rb.schema != pending[0].schema:
            flush()
        pending.append(rb)
        if sum(b.num_rows for b in pending) >= LAND_ROWS or sum(b.nbytes for b in pending) >= LAND_BYTES:
            flush()
    flush()
    missing = [c for c in needed if c not in seen]
    if n and missing:
        raise LoadError(
            f"{stream.qualified_name}: column(s) {', '.join(missing)} named in the sources file are not in the"
            f" source (it has: {', '.join(sorted(seen)[:30])})"
        )
    return n


def _skip_unchanged(con, stream: StreamConfig, batch_id: str) -> int:
    """Drop from this batch the rows already landed with the same key and content; returns how many.

    meta.row_versions keeps, per stream, the (source key, content hash) pairs last landed.
    """
    table = raw_table(stream)
    cols = ", ".join(quote_ident(c) for c in _raw_column_types(con, table))
    source = {"source": stream.qualified_name}
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hub_versions AS
            SELECT v._row_no, v._source_key, v.h, m._source IS NOT NULL AS unchanged
            FROM (SELECT _row_no, _source_key, hash({cols}) AS h FROM {table} WHERE _batch_id = $batch) v
            LEFT JOIN meta.row_versions m ON m._source = $source AND m._source_key = v._source_key AND m._row_hash = v.h""",
        {**source, "batch": batch_id},
    )
    unchanged = con.execute("SELECT count(*) FROM hub_versions WHERE unchanged").fetchone()[0]
    if unchanged:
        same = "SELECT _row_no FROM hub_versions WHERE unchanged"
        con.execute(f"DELETE FROM hub_stage_rows WHERE _row_no IN ({same})")
        con.execute(f"DELETE FROM {table} WHERE _batch_id = $batch AND _row_no IN ({same})", {"batch": batch_id})
    con.execute(
        "DELETE FROM meta.row_versions WHERE _source = $source"
        " AND _source_key IN (SELECT _source_key FROM hub_versions)",
        source,
    )
    con.execute("INSERT INTO meta.row_versions SELECT DISTINCT $source, _source_key, h FROM hub_versions", source)
    con.execute("DROP TABLE hub_versions")
    return unchanged


def _resolve_quarantine(con, stream: StreamConfig, batch_id: str) -> None:
    """Earlier quarantine entries of source rows that have now loaded are marked resolved (kept)."""
    con.execute(
        f"""UPDATE quality.quarantine SET resolved_batch_id = $batch, resolved_at = $at
           WHERE _source = $source AND resolved_at IS NULL AND _batch_id <> $batch
             AND _source_key IN (SELECT _source_key FROM {STAGE}
                                 WHERE _row_no NOT IN (SELECT _row_no FROM hub_violations))""",
        {"source": stream.qualified_name, "batch": batch_id, "at": beijing_now()},
    )


def _matches(entity_key: tuple[str, ...], table: str, alias: str) -> str:
    return " AND ".join(f"{alias}.{k} = {table}.{k}" for k in entity_key)


def _merge(con, entity: Entity, stream: StreamConfig, batch_id: str, loaded_at) -> None:
    """Delete-then-insert by business key: one golden row per key, whatever ran before."""
    cols = list(entity.columns)
    derived = [(name, expr) for name, _t, expr, _l in entity.derived]
    key = ", ".join(entity.key)
    select_cols = ", ".join(cols + [f"{expr} AS {name}" for name, expr in derived])
    all_cols = ", ".join(cols + [name for name, _ in derived])
    # Good rows; of identical repeats of a key (different ones were quarantined) keep the last.
    good = f"""SELECT {select_cols}, _source_key, _cursor FROM {STAGE}
        WHERE _row_no NOT IN (SELECT _row_no FROM hub_violations)
          AND _row_no NOT IN (
            SELECT s._row_no FROM {STAGE} s JOIN (
              SELECT {key}, max(_row_no) AS keep FROM {STAGE} GROUP BY {key} HAVING count(*) > 1
            ) r ON {_matches(entity.key, 's', 'r')} WHERE s._row_no <> r.keep)"""
    params = {"source": stream.qualified_name, "batch": batch_id, "at": loaded_at}
    if entity.name != "license":
        if _has_rows(con, entity.table):
            con.execute(
                f"DELETE FROM {entity.table} t WHERE EXISTS"
                f" (SELECT 1 FROM ({good}) g WHERE {_matches(entity.key, 't', 'g')})"
            )
        con.execute(
            f"INSERT INTO {entity.table} ({all_cols}, _source, _source_key, _batch_id, _loaded_at)"
            f" SELECT {all_cols}, $source, _source_key, $batch, $at FROM ({good})",
            params,
        )
        return
    if _has_rows(con, "core.license_record"):
        con.execute(
            "DELETE FROM core.license_record t WHERE t._source = $source"
            f" AND EXISTS (SELECT 1 FROM ({good}) g WHERE g.license_no = t.license_no)",
            {"source": stream.qualified_name},
        )
    con.execute(
        f"INSERT INTO core.license_record ({all_cols}, _cursor, _cursor_at, _source, _source_key,"
        " _batch_id, _loaded_at)"
        f" SELECT {all_cols}, _cursor, TRY_CAST(_cursor AS TIMESTAMP), $source, _source_key, $batch, $at"
        f" FROM ({good})",
        params,
    )
    rebuild_golden_licenses(con, f"SELECT license_no FROM {STAGE} WHERE license_no IS NOT NULL")


def _has_rows(con, table: str) -> bool:
    return con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]


def rebuild_golden_licenses(con, keys_query: str) -> None:
    """core.license from core.license_record for the given licence numbers (model.md golden rule).

    The issuing authority's own record wins (the source whose owning department issued it); else
    the record with the latest cursor value, else the latest batch. A valid licence whose
    validity has passed reads as expired.
    """
    cols = [c for c in ENTITIES["license"].columns if c != "status"]
    col_list = ", ".join(cols)
    if _has_rows(con, "core.license"):
        con.execute(f"DELETE FROM core.license WHERE license_no IN ({keys_query})")
    con.execute(
        f"""INSERT INTO core.license ({col_list}, status, n_sources,
                _source, _source_key, _batch_id, _loaded_at)
        SELECT {col_list},
               CASE WHEN status = 'valid' AND valid_to < current_date THEN 'expired' ELSE status END,
               n_sources, _source, _source_key, _batch_id, _loaded_at
        FROM (
          SELECT r.*, count(*) OVER w_all AS n_sources,
                 row_number() OVER (PARTITION BY r.license_no
                   ORDER BY (s.department IS NOT NULL AND s.department = r.issuing_dept_code) DESC,
                            r._cursor_at DESC NULLS LAST, r._loaded_at DESC, r._source) AS rn
          FROM core.license_record r LEFT JOIN meta.sources s ON s._source = r._source
          WHERE r.license_no IN ({keys_query})
          WINDOW w_all AS (PARTITION BY r.license_no)
        ) WHERE rn = 1"""
    )


def _quarantine(con, entity: Entity, stream: StreamConfig, batch_id: str, loaded_at) -> dict[str, int]:
    table = raw_table(stream)
    types = _raw_column_types(con, table)
    p = Params()
    # The source row as JSON of texts, rendered as the text path renders them, whichever engine
    # read it: the same source row gives the same entry through ADBC, arrow-odbc or SQLAlchemy.
    def text(c: str) -> str:
        col = f"r.{quote_ident(c)}"
        return col if types[c] == "VARCHAR" else _as_text(col, _arrow_type_of(types[c]))

    pairs = ", ".join(f"{p(c)}, {text(c)}" for c in types)
    p.values.update({"entity": entity.name, "source": stream.qualified_name, "batch": batch_id, "at": loaded_at})
    con.execute(
        f"""INSERT INTO quality.quarantine
              (entity, _source, _source_key, reason, detail, raw, _batch_id, quarantined_at, _row_no)
            SELECT $entity, $source, r._source_key, v.reason, v.detail, json_object({pairs}), $batch, $at, v._row_no
            FROM hub_violations v JOIN {table} r ON r._batch_id = $batch AND r._row_no = v._row_no""",
        p.values,
    )
    rows = con.execute("SELECT reason, count(*) FROM hub_violations GROUP BY reason").fetchall()
    return {reason: n for reason, n in rows}


class _Clock:
    """Seconds per step of a batch, for the asset's metadata and the benchmark."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.into[name] = round(self.into.get(name, 0.0) + now - self.last, 3)
        self.last = now


def _record_expectations(con, summary: dict, stream: StreamConfig, batch_id: str) -> None:
    rows = [
        (batch_id, stream.qualified_name, summary["entity"], summary["suite"], e["expectation_type"],
         e["column"] if isinstance(e["column"], str) else ",".join(c for c in e["column"] if c),
         e["reason"], e["success"], e["unexpected_count"], e["element_count"], beijing_now())
        for e in summary["expectations"]
    ]
    insert_rows(con, "quality.expectation_results", rows)  # one statement: executemany took 10 ms for 17 rows


def load_batch(
    con,
    stream: StreamConfig,
    batches: Iterable[pa.RecordBatch],
    *,
    high_watermark=None,
    file: LedgerEntry | None = None,
    validate=None,
    skip_unchanged: bool = False,
) -> BatchResult:
    """Land, validate and merge one extraction batch atomically; an empty batch changes nothing.

    `high_watermark` is a callable giving the extract's maximum cursor value once the batches are
    consumed; `file` is the ledger entry of a file batch; `validate` runs the
    entity's expectation suite on the staged batch inside the transaction (quality/gx_duckdb.py)
    and returns its summary, recorded in quality.expectation_results. `skip_unchanged` is for
    streams read whole at every run (no cursor): rows whose key and content were landed before
    are left out of the batch, so raw, quarantine and core change only where the source did.
    """
    entity = ENTITIES[stream.entity]
    batch_id = new_batch_id()
    started = beijing_now()
    result = BatchResult(stream=stream.qualified_name, batch_id=batch_id, file=file.path if file else None)
    clock = _Clock(result.seconds)

    def stage(chunk: str, first: bool, typed: set[str], chunk_params: dict) -> None:
        p = Params()
        sql = stage_select(stream, entity, chunk, p, typed)
        p.values.update(chunk_params)
        if first:
            con.execute("CREATE OR REPLACE TEMP TABLE hub_stage_rows AS " + sql, p.values)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {STAGE} AS {with_stage_aliases(entity, 'hub_stage_rows')}")
        else:
            con.execute("INSERT INTO hub_stage_rows " + sql, p.values)

    con.execute("BEGIN TRANSACTION")
    try:
        extracted = _land(con, stream, prefetched(batches, LAND_BYTES), batch_id, started, stage)
        clock.lap("extract_land_normalise")
        if extracted and skip_unchanged:
            result.unchanged = _skip_unchanged(con, stream, batch_id)
            extracted -= result.unchanged
            clock.lap("skip_unchanged")
        if extracted == 0:
            con.execute("ROLLBACK")
            result.batch_id = None
            return result
        rules = None
        if validate is not None:
            summary = validate(con, entity.name, STAGE)
            _record_expectations(con, summary, stream, batch_id)
            # Fetch failing rows only for the rules whose expectation failed on this batch.
            rules = failing_rules(entity.name, summary["expectations"])
            clock.lap("expectations")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE hub_violations AS {violations_query(entity, STAGE, rules)}"
        )
        reasons = _quarantine(con, entity, stream, batch_id, started)
        quarantined = con.execute("SELECT count(DISTINCT _row_no) FROM hub_violations").fetchone()[0]
        clock.lap("quarantine")
        _merge(con, entity, stream, batch_id, started)
        _resolve_quarantine(con, stream, batch_id)
        clock.lap("merge")
        mark = high_watermark() if high_watermark else None
        con.execute(
            "INSERT INTO meta.batches VALUES ($1, $2, $3, $9, 'succeeded', $4, $5, $6, $7, $8)",
            [batch_id, stream.qualified_name, started, extracted, extracted - quarantined, quarantined,
             file.path if file else None, mark, beijing_now()],
        )
        if mark is not None and stream.cursor:
            con.execute(
                "INSERT OR REPLACE INTO meta.watermarks VALUES ($1, $2, $3, $4, now()::TIMESTAMP)",
                [stream.qualified_name, stream.cursor, mark, batch_id],
            )
        if file is not None:
            record_file(con, stream, file, batch_id)
        con.execute(f"DROP VIEW {STAGE}")
        con.execute("DROP TABLE hub_stage_rows")
        con.execute("DROP TABLE hub_violations")
        con.execute("COMMIT")
        clock.lap("commit")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except Exception:
            pass
        raise
    result.extracted, result.quarantined = extracted, quarantined
    result.loaded = extracted - quarantined
    result.reasons = reasons
    result.watermark = mark
    return result

