"""What a `hub run` materialises: every asset, or only the streams that may have something new
and what depends on them.

Why: each Dagster step costs about 10 ms before it does any work, and most steps of an hourly run
(listing unchanged folders, counting unchanged tables, re-checking keys nobody wrote) find
nothing. A run with nothing new should end at once. Everything still runs when that is the safe
answer:

- asked for (`hub run --all`), a new warehouse, or no earlier run recorded in `meta.last_run`;
- the previous run failed or was interrupted (its `success` is false or empty);
- the first run of the day (Beijing): licence expiry, the working-day calendar and the daily
  whole-table scans of the key checks depend on the date;
- another hub version wrote the previous run (an upgrade may change views or rules).

Otherwise a stream runs when it may have something new: its declaration in the sources file
changed (or it is new); a file stream has a file the ledger does not hold; a sql stream with a
cursor has a row past its watermark (one LIMIT 1 query; an unreachable source counts as new, so
the run reports it); every whole-table, odbc and http stream (nothing cheaper than reading them
tells). The run then materialises those streams, everything downstream of them and the report.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from connectors.errors import SourceError
from pipelines.config import ConfigError, HubConfig, StreamConfig, declaration_sha, resolve_env
from warehouse.connection import connect, is_postgres, local_file, transaction
from warehouse.loading import beijing_now, loaded_files, watermark

ALL = "all"
CHANGED = "changed"


@dataclass(frozen=True)
class RunPlan:
    scope: str  # ALL: every asset; CHANGED: `streams`, what depends on them, the report
    reason: str  # why, as the summary prints it
    streams: tuple[str, ...]  # qualified names of the streams this run extracts
    run_id: str

    @property
    def nothing_to_do(self) -> bool:
        return self.scope == CHANGED and not self.streams

    def left_out(self, config: HubConfig) -> list[str]:
        """The streams of the sources file this run does not extract (nothing new)."""
        return [s.qualified_name for s in config.streams() if s.qualified_name not in self.streams]


def hub_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("licensing-hub")
    except PackageNotFoundError:
        return "unknown"


def plan_everything(config: HubConfig, reason: str) -> RunPlan:
    return RunPlan(ALL, reason, tuple(s.qualified_name for s in config.streams()), str(uuid.uuid4()))


@dataclass(frozen=True)
class LastRun:
    """The previous run as the plan needs it: when it started (Beijing), whether it succeeded
    (None: it never finished) and which hub version ran it."""

    started: datetime
    success: bool | None
    version: str | None


def plan_run(config: HubConfig, target: str, *, everything: bool = False,
             last_run: Callable[[object], LastRun | None] | None = None, wait_seconds: float = 60.0,
             unreachable: Collection[str] = ()) -> RunPlan:
    """The plan of the next run. `last_run` finds the previous run given the open warehouse
    (default: meta.last_run, what `hub run` records). The warehouse is opened read-only;
    `wait_seconds` bounds the wait for a run that is writing it (WarehouseError after that).
    Sources in `unreachable` (found so by the caller) count as new without being asked again."""
    if everything:
        return plan_everything(config, "every asset asked for (--all)")
    if is_postgres(target):
        from warehouse.postgres import stale_reason

        reason = stale_reason(target, local_file(target))
        if reason:
            return plan_everything(config, f"{reason}: the working copy is rebuilt first")
    elif not local_file(target).exists():
        return plan_everything(config, "new warehouse")
    con = connect(target, read_only=True, wait_seconds=wait_seconds)
    try:
        reason = _why_everything((last_run or recorded_last_run)(con))
        if reason:
            return plan_everything(config, reason)
        pending = tuple(s.qualified_name for s in config.streams()
                        if s.source in unreachable or _may_have_new_rows(con, config, s))
    finally:
        con.close()
    skipped = len(config.streams()) - len(pending)
    return RunPlan(CHANGED, f"{skipped} stream(s) with nothing new since the last run left out (--all runs them)",
                   pending, str(uuid.uuid4()))


def _has_last_run_table(con) -> bool:
    return con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'meta' AND table_name = 'last_run'"
    ).fetchone()[0] > 0


def recorded_last_run(con) -> LastRun | None:
    row = _has_last_run_table(con) and con.execute(
        "SELECT started_at, success, hub_version FROM meta.last_run"
    ).fetchone()
    return LastRun(*row) if row else None


def _why_everything(last: LastRun | None) -> str | None:
    if last is None:
        return "no earlier run recorded in this warehouse"
    if last.success is None:
        return f"the previous run (started {last.started:%Y-%m-%d %H:%M:%S}) did not finish"
    if not last.success:
        return f"the previous run (started {last.started:%Y-%m-%d %H:%M:%S}) failed"
    if last.started.date() < beijing_now().date():
        return "first run of the day (licence expiry, working-day calendar, whole-table checks)"
    if last.version != hub_version():
        return f"the hub was upgraded ({last.version} → {hub_version()})"
    return None


def _may_have_new_rows(con, config: HubConfig, stream: StreamConfig) -> bool:
    source = config.sources[stream.source]
    row = con.execute("SELECT config_sha FROM meta.sources WHERE _source = $1", [stream.qualified_name]).fetchone()
    if row is None or row[0] != declaration_sha(source, stream):
        return True
    try:
        if source.kind == "file":
            from connectors.files import unledgered_files

            ledger = {(path, size, ctime) for (path, size, _sha), ctime in loaded_files(con, stream).items()}
            return bool(unledgered_files(Path(source.connection["path"]), stream.options["pattern"], ledger,
                                         source=source.name, stream=stream.name))
        if source.kind == "sql" and stream.cursor:
            since = watermark(con, stream)
            if since is None:
                return True
            from connectors.sql import read_sql

            url = resolve_env(source.connection["url"], where=f"{config.path}: sources → {source.name}")
            return read_sql(url, source=source.name, stream=stream.name, table=stream.table, query=stream.query,
                            cursor=stream.cursor, since=since, engine="sqlalchemy", retry_delays=()).has_rows()
    except (SourceError, ConfigError):
        return True  # the stream's own step will fail with the full message
    return True


def begin_run(con, plan: RunPlan) -> None:
    """Record the run before it starts: one that never finishes leaves `success` empty."""
    from warehouse.schema import create_schema

    if not _has_last_run_table(con):
        create_schema(con)
    with transaction(con):
        con.execute("DELETE FROM meta.last_run")  # one row: a run that changes nothing adds no row
        con.execute(
            "INSERT INTO meta.last_run (run_id, started_at, scope, reason, streams, hub_version)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            [plan.run_id, beijing_now(), plan.scope, plan.reason, ", ".join(plan.streams), hub_version()],
        )


def finish_run(con, plan: RunPlan, success: bool) -> None:
    con.execute("UPDATE meta.last_run SET finished_at = $1, success = $2 WHERE run_id = $3",
                [beijing_now(), success, plan.run_id])
