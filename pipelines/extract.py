"""Running one source stream: pick its connector, read incrementally, load batch by batch.

Plain Python (no Dagster), so `hub run`, the Dagster assets and the tests share one code path.
A SQL stream is one batch per run (from the watermark on); a file stream is one batch per new file,
each committed with its ledger entry, so a broken file never blocks or loses the others.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from connectors.errors import SourceError
from pipelines.config import HubConfig, SourceConfig, StreamConfig, declaration_sha, resolve_env
from warehouse.loading import (
    BatchResult,
    LedgerEntry,
    load_batch,
    loaded_files,
    record_ctime,
    record_file,
    register_source,
    watermark,
)


@dataclass
class StreamResult:
    stream: str
    batches: list[BatchResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unchanged: int = 0  # rows of a whole-table read identical to what was landed before

    @property
    def extracted(self) -> int:
        return sum(b.extracted for b in self.batches)

    @property
    def loaded(self) -> int:
        return sum(b.loaded for b in self.batches)

    @property
    def quarantined(self) -> int:
        return sum(b.quarantined for b in self.batches)

    def seconds(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for b in self.batches:
            for step, sec in b.seconds.items():
                out[step] = round(out.get(step, 0.0) + sec, 3)
        return out

    def reasons(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for b in self.batches:
            for reason, n in b.reasons.items():
                out[reason] = out.get(reason, 0) + n
        return out


def _where(config: HubConfig, source: SourceConfig) -> str:
    return f"{config.path}: sources → {source.name} → connection"


def _load_extract(con, stream: StreamConfig, extract, result: StreamResult) -> None:
    """One extract (sql, odbc, http) as one batch, its watermark committed with it."""
    batch = load_batch(con, stream, extract, high_watermark=lambda: extract.high_watermark,
                       validate=validate_with_expectations, skip_unchanged=not stream.cursor)
    result.unchanged += batch.unchanged
    if batch.batch_id:
        result.batches.append(batch)


def _extract_sql(con, config: HubConfig, source: SourceConfig, stream: StreamConfig, result: StreamResult) -> None:
    from connectors.sql import read_sql

    url = resolve_env(source.connection["url"], where=_where(config, source) + " → url")
    since = watermark(con, stream) if stream.cursor else None
    extract = read_sql(
        url,
        source=source.name,
        stream=stream.name,
        table=stream.table,
        query=stream.query,
        cursor=stream.cursor,
        since=since,
        batch_rows=source.batch_rows,
        engine=source.connection.get("engine"),
        typed=True,  # integers, dates and timestamps land typed in raw; the stage takes them as values
    )
    _load_extract(con, stream, extract, result)


def _extract_files(con, config: HubConfig, source: SourceConfig, stream: StreamConfig, result: StreamResult) -> None:
    from pathlib import Path

    from connectors.files import assert_unchanged, list_ready_files, read_file

    opts = stream.options
    folder = Path(source.connection["path"])
    done = loaded_files(con, stream)
    known = {(path, size, ctime): sha for (path, size, sha), ctime in done.items() if ctime is not None}
    settle = float(source.connection.get("settle_seconds", 1.0))
    ready = list_ready_files(folder, opts["pattern"], source=source.name, stream=stream.name, settle_seconds=settle,
                             known=known)
    for f in ready:
        entry = LedgerEntry(f.relpath, f.size, f.sha256, f.ctime_ns)
        if (f.relpath, f.size, f.sha256) in done:
            if done[(f.relpath, f.size, f.sha256)] != f.ctime_ns:  # same content, inode changed
                record_ctime(con, stream, entry)
            continue
        try:
            batches = read_file(
                f,
                source=source.name,
                stream=stream.name,
                format=opts["format"],
                encoding=opts["encoding"],
                delimiter=opts.get("delimiter", ","),
                sheet=opts.get("sheet"),
                batch_rows=source.batch_rows,
            )

            def checked(batches=batches, f=f):
                yield from batches
                assert_unchanged(f, source=source.name, stream=stream.name)

            batch = load_batch(con, stream, checked(), file=entry, validate=validate_with_expectations)
        except SourceError as exc:
            result.errors.append(str(exc))
            continue
        if batch.batch_id is None:
            # An empty file is still "loaded once": record it so it is not read again.
            record_file(con, stream, entry, "empty")
            continue
        result.batches.append(batch)


def _extract_http(con, config: HubConfig, source: SourceConfig, stream: StreamConfig, result: StreamResult) -> None:
    from connectors.http import read_http

    conn, opts = source.connection, stream.options
    where = _where(config, source)
    token = conn.get("token")
    extract = read_http(
        resolve_env(conn["base_url"], where=where + " → base_url"),
        source=source.name,
        stream=stream.name,
        path=opts["path"],
        token=resolve_env(token, where=where + " → token") if token else None,
        token_header=conn.get("token_header", "Authorization"),
        records=opts.get("records"),
        params=opts.get("params"),
        paging=opts.get("paging"),
        cursor=stream.cursor,
        since=watermark(con, stream) if stream.cursor else None,
        since_param=opts.get("since_param"),
        batch_rows=source.batch_rows,
        timeout_seconds=float(conn.get("timeout_seconds", 30)),
        retries=int(conn.get("retries", 4)),
    )
    _load_extract(con, stream, extract, result)


def _extract_odbc(con, config: HubConfig, source: SourceConfig, stream: StreamConfig, result: StreamResult) -> None:
    from connectors.odbc import odbc_connection_string, read_odbc

    extract = read_odbc(
        odbc_connection_string(*odbc_settings(config, source)),
        source=source.name,
        stream=stream.name,
        table=stream.table,
        query=stream.query,
        cursor=stream.cursor,
        since=watermark(con, stream) if stream.cursor else None,
        batch_rows=source.batch_rows,
        fast=None if source.connection.get("arrow", True) else False,
        typed=True,  # integers, dates and timestamps land typed in raw; the stage takes them as values
    )
    _load_extract(con, stream, extract, result)


def odbc_settings(config: HubConfig, source: SourceConfig) -> tuple[str | None, str | None]:
    """(dsn, connection_string) with ${VAR} resolved: secrets only at run time."""
    where = _where(config, source)
    dsn, cs = source.connection.get("dsn"), source.connection.get("connection_string")
    return (
        resolve_env(dsn, where=where + " → dsn") if dsn else None,
        resolve_env(cs, where=where + " → connection_string") if cs else None,
    )


def _in_background(name: str, work) -> threading.Thread:
    """Run `work` in a daemon thread; an error there is left to the validation, which does the
    same work itself when it needs it and reports the error with its traceback."""

    def run() -> None:
        try:
            work()
        except Exception:  # noqa: BLE001 - see above
            pass

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def _gx():
    return importlib.import_module("quality.gx_duckdb")  # GX: seconds to import, so only here


def prepare_expectations_in_background(con, entity: str) -> threading.Thread:
    """Import Great Expectations (about 5 s here) and build the entity's suite and datasource
    (0.15–0.2 s) in a thread while the source is read.

    Why: a batch's validation is the first use of GX in a `hub run`, and that work is mostly
    Python while reading a source is mostly the driver and DuckDB, so it hides behind the
    extraction instead of adding to it. The validation waits for this thread where it needs what
    the thread builds (Python's per-module import lock, the GX context's lock). The caller joins
    the thread before `con` may close (closing a connection closes its cursors).
    """
    cursor = con.cursor()  # a connection of its own: the loader uses `con` meanwhile

    def work() -> None:
        try:
            _gx().prepare(cursor, entity)
        finally:
            cursor.close()

    return _in_background("hub-gx-prepare", work)


def prepare_suites_in_background(entities: Iterable[str]) -> threading.Thread:
    """Import Great Expectations and build the context and these entities' suites in a thread.

    Why: `hub run` calls this before it imports Dagster and sets up the run (a second or more of
    Python that needs no warehouse), so GX's import and set-up overlap them instead of the first
    stream step's extraction only. The datasource needs the warehouse: `hub run` prepares it once
    the warehouse is open, and each stream step prepares it too (a no-op once built), for runs
    that Dagster launches.
    """
    names = list(entities)
    return _in_background("hub-gx-suites", lambda: _gx().prepare_suites(names))


def open_sources_in_background(config: HubConfig, streams: Iterable[str]) -> threading.Thread:
    """Open, in a thread, a connection to each PostgreSQL source these streams read through ADBC,
    parked for their steps (connectors.sql_adbc: about 45 ms each, which `hub run` otherwise
    pays inside the first step of each source while it could overlap Dagster's set-up)."""
    wanted = set(streams)
    names = {s.source for s in config.streams() if s.qualified_name in wanted}

    def work() -> None:
        from connectors.sql import choose_engine, normalize_url
        from connectors.sql_adbc import open_in_advance

        for name in sorted(names):
            source = config.sources[name]
            if source.kind != "sql":
                continue
            url = normalize_url(resolve_env(source.connection["url"], where=_where(config, source)), source=name)
            if choose_engine(source.connection.get("engine"), url, source=name) == "adbc":
                open_in_advance(url)

    return _in_background("hub-open-sources", work)


def validate_with_expectations(con, entity: str, stage: str) -> dict:
    """The entity's Great Expectations suite over the staged batch, inside the warehouse."""
    from quality.gx_duckdb import validate_stage
    from quality.report import remember_validation

    summary = validate_stage(con, entity, stage)
    remember_validation(summary)
    return summary


EXTRACTORS = {"sql": _extract_sql, "odbc": _extract_odbc, "file": _extract_files, "http": _extract_http}


def run_stream(con, config: HubConfig, stream: StreamConfig) -> StreamResult:
    """Extract and load one stream; raises SourceError when the source could not be read at all."""
    source = config.sources[stream.source]
    register_source(con, stream, department=source.department, label=source.label, kind=source.kind,
                    config_sha=declaration_sha(source, stream))
    result = StreamResult(stream=stream.qualified_name)
    extractor = EXTRACTORS.get(source.kind)
    if extractor is None:
        raise SourceError(
            f"{config.path}: sources → {source.name}: connection kind '{source.kind}' is not available yet"
        )
    preparing = prepare_expectations_in_background(con, stream.entity)
    try:
        extractor(con, config, source, stream, result)
    finally:
        preparing.join()  # done with its cursor before `con` may close (a batch's validation waited already)
    return result
