"""The hourly schedule: each tick requests what `hub run` would run (pipelines/run_plan.py).

A tick with nothing new launches no run; one whose streams have something new launches a run of
those streams, what depends on them and the report; every asset when the previous run of the job
failed or did not finish, at the first tick of a Beijing day and after an upgrade. The previous
run is read from Dagster's own run history (tag `hub/version`), not from meta.last_run, which
only `hub run` writes. A tick while a run holds the warehouse (DuckDB has one writer) is skipped:
runs of one warehouse must not overlap.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.assets import planned_assets
from pipelines.config import HubConfig
from pipelines.resources import WarehouseResource
from pipelines.run_plan import ALL, LastRun, hub_version, plan_run
from warehouse.connection import WarehouseError

VERSION_TAG = "hub/version"
FINISHED = {dg.DagsterRunStatus.SUCCESS: True, dg.DagsterRunStatus.FAILURE: False, dg.DagsterRunStatus.CANCELED: False}


def last_job_run(instance: dg.DagsterInstance, job_name: str) -> LastRun | None:
    """The latest run of `job_name` as the plan needs it; a run not finished counts as such (the
    warehouse lock tells whether it is still running)."""
    records = instance.get_run_records(filters=dg.RunsFilter(job_name=job_name), limit=1)
    if not records:
        return None
    record = records[0]
    started = record.start_time or record.create_timestamp.timestamp()
    return LastRun(
        started=datetime.fromtimestamp(started, ZoneInfo("Asia/Shanghai")).replace(tzinfo=None),
        success=FINISHED.get(record.dagster_run.status),
        version=record.dagster_run.tags.get(VERSION_TAG),
    )


def build_hourly_schedule(config: HubConfig, job, assets) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="hub_hourly",
        job=job,
        cron_schedule="0 * * * *",
        execution_timezone="Asia/Shanghai",
        description="每小时增量抽取：只运行有新数据的数据流及其下游（hourly: only the streams with new data and"
        " what depends on them; every asset at the first tick of a day or after a failed run）",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    def hub_hourly(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
        try:
            plan = plan_run(config, warehouse.target, last_run=lambda _con: last_job_run(context.instance, job.name),
                            wait_seconds=0)
        except WarehouseError as exc:
            return dg.SkipReason(f"the warehouse is busy (a run is writing it): {exc}")
        if plan.nothing_to_do:
            return dg.SkipReason("nothing new in any stream")
        tags = {VERSION_TAG: hub_version(), "hub/scope": plan.scope, "hub/reason": plan.reason[:200]}
        if plan.scope == ALL:
            return dg.RunRequest(tags=tags)
        return dg.RunRequest(asset_selection=planned_assets(config, plan.streams, assets), tags=tags)

    return hub_hourly
