"""`hub run`: validate the sources file, materialise every asset in-process, summarise.

A user's mistake in the sources file (unknown key, bad kind, unset ${VAR}, missing table) stops
the run before the warehouse is opened, with one message naming file, source and key.
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass, field

from pipelines.config import ConfigError, HubConfig, check_environment, load_config, resolve_env
from pipelines.run_plan import CHANGED, RunPlan, begin_run, finish_run, plan_everything, plan_run


@dataclass
class RunSummary:
    success: bool
    streams: dict[str, dict] = field(default_factory=dict)  # stream → extracted/loaded/quarantined
    core: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0  # the whole call, Dagster's run set-up included
    work_seconds: float = 0.0  # first step started → last step finished
    step_seconds: dict[str, float] = field(default_factory=dict)  # Dagster step → start to end, in run order
    scope: str = "all"  # run_plan.ALL or run_plan.CHANGED
    reason: str = ""  # why that scope
    not_run: list[str] = field(default_factory=list)  # streams left out: nothing new
    published: dict = field(default_factory=dict)  # the PostgreSQL publication's metadata, if any


def preflight(config: HubConfig) -> dict[str, str]:
    """Catch configuration mistakes that only the source can reveal: a table that does not exist.

    An unreachable source is not a configuration mistake: it is reported (source name → warning,
    returned) and its assets fail in the run while every other source still loads.
    """
    import sqlalchemy as sa

    from connectors.errors import SourceError
    from connectors.sql import check_connection, normalize_url

    warnings: dict[str, str] = {}
    for source in config.sources.values():
        if source.kind == "odbc":
            warning = _preflight_odbc(config, source)
            if warning:
                warnings[source.name] = warning
            continue
        if source.kind != "sql":
            continue
        where = f"{config.path}: sources → {source.name}"
        url = resolve_env(source.connection["url"], where=f"{where} → connection → url")
        try:
            check_connection(url, source=source.name, retry_delays=())
        except SourceError as exc:
            warnings[source.name] = f"{where}: source unreachable, its streams will fail: {exc}"
            continue
        engine = sa.create_engine(normalize_url(url, source=source.name), poolclass=sa.pool.NullPool)
        try:
            inspector = sa.inspect(engine)
            for stream in source.streams.values():
                if not stream.table:
                    continue
                schema, _, table = stream.table.rpartition(".")
                if not inspector.has_table(table, schema=schema or None):
                    raise ConfigError(
                        f"{where} → streams → {stream.name} → table: table '{stream.table}' does not exist in"
                        f" the source database"
                    )
        finally:
            engine.dispose()
    return warnings


def _preflight_odbc(config: HubConfig, source) -> str | None:
    from connectors.errors import SourceError
    from connectors.odbc import check_odbc, odbc_connection_string, odbc_has_table
    from pipelines.extract import odbc_settings

    where = f"{config.path}: sources → {source.name}"
    cs = odbc_connection_string(*odbc_settings(config, source))
    try:
        check_odbc(cs, source=source.name, retry_delays=())
    except SourceError as exc:
        return f"{where}: source unreachable, its streams will fail: {exc}"
    for stream in source.streams.values():
        if stream.table and not odbc_has_table(cs, stream.table, source=source.name):
            raise ConfigError(
                f"{where} → streams → {stream.name} → table: table '{stream.table}' does not exist in the source database"
            )
    return None


def run_all(config: HubConfig, target: str, *, log_level: str = "WARNING", plan: RunPlan | None = None) -> RunSummary:
    """Materialise the assets and checks of `plan` (default: every one) into the warehouse `target`;
    the run is recorded in meta.last_run."""
    from pipelines.extract import (
        open_sources_in_background,
        prepare_expectations_in_background,
        prepare_suites_in_background,
    )
    from warehouse.model import ENTITIES

    plan = plan or plan_everything(config, "every asset")
    # While Dagster is imported and the run set up: GX's suites, the sources' connections.
    prepare_suites_in_background(ENTITIES)
    open_sources_in_background(config, plan.streams)
    from pipelines.assets import PUBLICATION_KEY, planned_assets
    from pipelines.definitions import ALL_JOB, build_definitions
    from pipelines.resources import WarehouseResource
    from warehouse.connection import connect, is_postgres

    started = time.monotonic()
    defs = build_definitions(config, WarehouseResource(target=target))
    job = defs.resolve_job_def(ALL_JOB)
    graph = defs.resolve_asset_graph()
    publish = is_postgres(target)
    if plan.scope == CHANGED:
        selection = planned_assets(config, plan.streams, graph, publish=publish)
    else:  # every asset; the PostgreSQL publication only where there is something to publish
        selection = None if publish else sorted(k for k in graph.get_all_asset_keys() if k != PUBLICATION_KEY)
    con = connect(target)  # the run's one warehouse connection: its start, its steps, its end
    preparing = None
    try:
        begin_run(con, plan)
        first = next((s for s in config.streams() if s.qualified_name in plan.streams), None)
        if first is not None:  # GX's datasource too, while Dagster starts the run (pipelines/extract.py)
            preparing = prepare_expectations_in_background(con, first.entity)
        result, steps = _execute(job, target, con, plan, selection, log_level)
        summary = _summarise(result, steps, plan, config)
        finish_run(con, plan, summary.success)
    finally:
        if preparing is not None:
            preparing.join()  # its cursor closes with `con`
        con.close()
    summary.seconds = time.monotonic() - started
    return summary


def _execute(job, target: str, con, plan: RunPlan, selection, log_level: str):
    """Run the job in this process on the lent connection: (its result, (event, step, time) of its steps)."""
    from pipelines.resources import lend_connection
    from pipelines.run_instance import run_instance

    # What the imports and the set-up made lives as long as this process: out of the collector's
    # reach, a full collection during the run scans only what the run makes (one over the ~400,000
    # objects of Dagster and GX took 0.2–0.3 s here). Once per process (tests run many runs in one).
    if gc.get_freeze_count() == 0:
        gc.freeze()
    with lend_connection(target, con), run_instance() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_id=plan.run_id,
            asset_selection=selection,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
        steps = [
            (entry.dagster_event.event_type, entry.step_key, entry.timestamp)
            for entry in instance.all_logs(result.run_id)
            if entry.dagster_event is not None
        ]
    return result, steps


def _summarise(result, steps, plan: RunPlan, config: HubConfig) -> RunSummary:
    import dagster as dg

    from pipelines.assets import PUBLICATION_KEY

    summary = RunSummary(success=result.success, scope=plan.scope, reason=plan.reason, not_run=plan.left_out(config))
    starts = {step: t for kind, step, t in steps if kind == dg.DagsterEventType.STEP_START}
    ends = {step: t for kind, step, t in steps
            if kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE)}
    if starts and ends:
        summary.work_seconds = max(ends.values()) - min(starts.values())
    summary.step_seconds = {step: round(ends[step] - t, 3) for step, t in starts.items() if step in ends}
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            key = mat.asset_key.path
            meta = {k: v.value for k, v in mat.metadata.items()}
            if key[0] == "raw":
                summary.streams[".".join(key[1:])] = meta
            elif key[0] == "core":
                summary.core[key[1]] = meta.get("dagster/row_count", 0)
            elif key == PUBLICATION_KEY.path and "tables_published" in meta:
                summary.published = meta
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            err = event.event_specific_data.error
            # A dg.Failure carries the user-facing message; an unexpected error its first line.
            while err is not None and err.cause is not None and "Error occurred while executing" in err.message:
                err = err.cause
            text = err.message.strip().splitlines()[0] if err else "failed"
            # A dg.Failure is ours: its description is the message (Dagster prefixes its class).
            text = text.removeprefix("dagster._core.definitions.events.Failure: ")
            summary.failures.append(f"{event.step_key}: {text}")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            ev = event.event_specific_data
            if not ev.passed:
                name = f"{ev.asset_key.to_user_string()} · {ev.check_name}"
                if ev.severity == dg.AssetCheckSeverity.ERROR:
                    summary.failed_checks.append(name)
                    summary.success = False
                else:  # findings are results, not failures
                    count = ev.metadata.get("count")
                    summary.warnings.append(name + (f": {count.value}" if count is not None else ""))
    return summary


def format_summary(summary: RunSummary) -> str:
    lines = [f"run: {summary.scope} — {summary.reason}"] if summary.reason else []
    lines.append(f"{'source stream':<28} {'extracted':>10} {'loaded':>10} {'quarantined':>12}")
    for stream, meta in sorted(summary.streams.items()):
        lines.append(
            f"{stream:<28} {meta.get('extracted', 0):>10} {meta.get('loaded', 0):>10} {meta.get('quarantined', 0):>12}"
        )
    for stream in summary.not_run:
        lines.append(f"{stream:<28} {0:>10} {0:>10} {0:>12}   (nothing new: not run)")
    if summary.core:
        lines.append("")
        lines.append("core rows: " + ", ".join(f"{k} {v}" for k, v in summary.core.items()))
    if summary.published:
        p = summary.published
        lines.append(f"published to PostgreSQL: {p['tables_published']} table(s), {p['rows_written']} row(s) written,"
                     f" {p['tables_unchanged']} unchanged, in {p['seconds']} s")
    for failure in summary.failures:
        lines.append(f"FAILED {failure}")
    if summary.warnings:
        lines.append("findings: " + "; ".join(summary.warnings))
    for check in summary.failed_checks:
        lines.append(f"CHECK FAILED {check}")
    lines.append(f"{'OK' if summary.success else 'FAILED'} in {summary.seconds:.1f} s")
    return "\n".join(lines)


def check_warehouse(target: str) -> None:
    """A PostgreSQL warehouse that cannot be reached stops the run before anything is extracted."""
    from warehouse.connection import is_postgres

    if is_postgres(target):
        from warehouse.postgres import check_reachable

        check_reachable(target)


def plan_from_sources(sources: str | os.PathLike, target: str, *, everything: bool = False) -> tuple[HubConfig, RunPlan]:
    """Check the sources file and the sources, then plan the run (pipelines/run_plan.py)."""
    config = load_config(sources)
    check_environment(config)
    check_warehouse(target)
    unreachable = preflight(config)
    for warning in unreachable.values():
        print(f"warning: {warning}")
    return config, plan_run(config, target, everything=everything, unreachable=set(unreachable))


def format_plan(config: HubConfig, planned: RunPlan) -> str:
    left_out = planned.left_out(config)
    lines = [f"run: {planned.scope} — {planned.reason}"]
    for stream in config.streams():
        name = stream.qualified_name
        lines.append(f"{name:<28} {'nothing new: would not run' if name in left_out else 'would run'}")
    return "\n".join(lines)


def run(sources: str | os.PathLike, target: str, *, log_level: str = "WARNING", everything: bool = False) -> RunSummary:
    """`hub run`: check the sources file, then run what the plan selects."""
    started = time.monotonic()
    config, planned = plan_from_sources(sources, target, everything=everything)
    if planned.nothing_to_do:
        # Nothing new anywhere: no Dagster run (its import alone takes a second or two).
        return RunSummary(success=True, scope=planned.scope, reason=planned.reason,
                          not_run=planned.left_out(config), seconds=time.monotonic() - started)
    return run_all(config, target, log_level=log_level, plan=planned)


__all__ = ["ConfigError", "RunSummary", "format_plan", "format_summary", "plan_from_sources", "preflight", "run", "run_all"]
