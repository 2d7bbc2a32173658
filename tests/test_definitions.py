"""The Dagster definitions generated from a sources file: inventory, groups, kinds, lineage."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.config import load_config
from pipelines.definitions import ALL_JOB, CHECKS_JOB, build_definitions
from pipelines.demo_data import generate_demo
from pipelines.resources import WAREHOUSE_RUN_TAGS, WarehouseResource


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("defs")
    sources = generate_demo(folder / "demo", scale=200)
    return build_definitions(load_config(sources), WarehouseResource(target=str(folder / "wh.duckdb")))


def test_inventory(defs):
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    streams = {"raw/platform/cases", "raw/platform/evaluations", "raw/platform/licenses", "raw/platform/pushes",
               "raw/zhujian/licenses", "raw/amr/licenses", "raw/exchange/departments", "raw/exchange/matters",
               "raw/exchange/feedback"}
    core = {f"core/{e}" for e in ("region", "workday", "department", "matter", "case", "license", "push",
                                   "feedback", "evaluation")}
    share = {f"share/{v}" for v in ("license_registry", "holder_licenses", "overdue_cases", "push_sla",
                                    "level_rollup")}
    assert keys == streams | core | share | {"quality/recognition", "quality/report", "meta/postgres_publication"}


def test_every_asset_is_described_grouped_and_kinded(defs):
    for spec in defs.resolve_all_asset_specs():
        assert spec.description, spec.key
        assert spec.group_name and spec.group_name != "default", spec.key
        assert spec.kinds, spec.key
    groups = {spec.group_name for spec in defs.resolve_all_asset_specs()}
    assert {"core", "share", "quality", "raw_platform", "raw_exchange"} <= groups


def test_lineage_runs_from_streams_to_share(defs):
    graph = defs.resolve_asset_graph()
    upstream = graph.get(dg.AssetKey(["share", "license_registry"])).parent_keys
    assert dg.AssetKey(["core", "license"]) in upstream
    core_license = graph.get(dg.AssetKey(["core", "license"])).parent_keys
    assert dg.AssetKey(["raw", "zhujian", "licenses"]) in core_license
    # reference entities first: a case stream waits for departments and matters
    case_stream = graph.get(dg.AssetKey(["raw", "platform", "cases"])).parent_keys
    assert {dg.AssetKey(["core", "department"]), dg.AssetKey(["core", "matter"])} <= case_stream


def test_jobs_schedule_sensor_and_blocking_checks(defs):
    assert defs.resolve_job_def(ALL_JOB) and defs.resolve_job_def(CHECKS_JOB)
    assert defs.resolve_schedule_def("hub_hourly").cron_schedule == "0 * * * *"
    assert defs.resolve_sensor_def("exchange_exchange_folder")
    specs = [spec for ad in defs.resolve_asset_graph().assets_defs for spec in ad.check_specs]
    checks = {(c.asset_key.to_user_string(), c.name): c.blocking for c in specs}
    assert checks[("core/case", "business_key_unique_not_null")] is True
    assert checks[("raw/platform/cases", "rows_accounted_for")] is True
    assert checks[("share/level_rollup", "levels_add_up")] is True
    assert checks[("quality/recognition", "no_conflict")] is False


def test_runs_of_the_warehouse_queue_one_at_a_time(defs, tmp_path):
    """The jobs tag their runs; the project's dagster.yaml (read by `dg dev` without DAGSTER_HOME)
    lets one tagged run go at a time: DuckDB has one writer."""
    from pathlib import Path

    from dagster._core.instance import InstanceRef

    for job in (ALL_JOB, CHECKS_JOB):
        assert defs.resolve_job_def(job).tags.items() >= WAREHOUSE_RUN_TAGS.items()
    root = Path(__file__).resolve().parent.parent
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path), config_dir=str(root))) as instance:
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    (key,) = WAREHOUSE_RUN_TAGS
    assert {"key": key, "limit": 1} in limits


def test_folder_sensor_tags_its_runs(defs):
    sensor = defs.resolve_sensor_def("exchange_exchange_folder")
    with dg.build_sensor_context(cursor=None) as context:
        result = sensor.evaluate_tick(context)
    (request,) = result.run_requests
    assert request.tags.items() >= WAREHOUSE_RUN_TAGS.items()
