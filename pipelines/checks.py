"""Asset checks: blocking where bad data must not flow on to `share`.

The rules live in `quality/`; this module only wires them to assets and records every outcome in
quality.check_results as well as in the Dagster UI.
"""


from collections.abc import Iterator

import dagster as dg

from pipelines.assets import RECOGNITION_KEY, core_key, share_key, stream_key
from pipelines.config import HubConfig, StreamConfig
from pipelines.resources import WarehouseResource
from quality.recognition import FINDINGS_SQL, SAMPLE, finding_counts, finding_sample
from quality.table_checks import accounting_check, checked_through, key_check, record_check_results, rollup_check
from warehouse.loading import raw_table
from warehouse.model import ENTITIES, LOAD_ORDER


def _result(context, warehouse: WarehouseResource, *, name: str, asset: dg.AssetKey, passed: bool, meta: dict,
            description: str, blocking: bool = True) -> dg.AssetCheckResult:
    return _results(context, warehouse, [dict(name=name, asset=asset, passed=passed, meta=meta,
                                              description=description, blocking=blocking)])[0]


def _results(context, warehouse: WarehouseResource, outcomes: list[dict]) -> list[dg.AssetCheckResult]:
    """Record outcomes (_result's keywords each) in quality.check_results in one statement and
    return them as Dagster check results."""
    results = []
    for o in outcomes:
        severity = dg.AssetCheckSeverity.ERROR if o.get("blocking", True) else dg.AssetCheckSeverity.WARN
        results.append(dg.AssetCheckResult(
            asset_key=o["asset"], check_name=o["name"], passed=o["passed"], severity=severity,
            description=o["description"],
            metadata={k: (dg.MetadataValue.json(v) if isinstance(v, (list, dict)) else v) for k, v in o["meta"].items()},
        ))
    with warehouse.connection() as con:
        record_check_results(con, [
            dict(check_name=o["name"], asset=o["asset"].to_user_string(), passed=o["passed"],
                 severity=r.severity.value, description=o["description"], metadata=o["meta"],
                 run_id=context.run.run_id)
            for o, r in zip(outcomes, results, strict=True)
        ])
    return results


def build_key_check(entity_name: str) -> dg.AssetChecksDefinition:
    entity = ENTITIES[entity_name]

    @dg.asset_check(
        asset=core_key(entity_name),
        name="business_key_unique_not_null",
        blocking=True,
        description=f"core.{entity_name} 的业务主键（{', '.join(entity.key)}）非空且唯一",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connection() as con:
            since, full = checked_through(con, "business_key_unique_not_null", core_key(entity_name).to_user_string())
            passed, meta = key_check(con, entity_name, since=since, last_full_scan=full)
        return _result(context, warehouse, name="business_key_unique_not_null", asset=core_key(entity_name),
                       passed=passed, meta=meta, description=f"key of core.{entity_name}")

    return _check


def build_accounting_check(stream: StreamConfig) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=stream_key(stream),
        name="rows_accounted_for",
        blocking=True,
        description="每批：抽取行数 = 入库行数 + 隔离行数（extracted = loaded + quarantined），且与 raw、隔离区一致",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connection() as con:
            since, full = checked_through(con, "rows_accounted_for", stream_key(stream).to_user_string())
            passed, meta = accounting_check(con, stream.qualified_name, raw_table(stream), since=since,
                                            last_full_scan=full)
        return _result(context, warehouse, name="rows_accounted_for", asset=stream_key(stream), passed=passed,
                       meta=meta, description=f"accounting rule of {stream.qualified_name}")

    return _check


@dg.asset_check(
    asset=share_key("share.level_rollup"),
    name="levels_add_up",
    blocking=True,
    description="分级汇总：每个盟市（自治区）的合计等于其下一级之和（办件量、证照量）",
)
def levels_add_up(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connection() as con:
        passed, meta = rollup_check(con)
    return _result(context, warehouse, name="levels_add_up", asset=share_key("share.level_rollup"), passed=passed,
                   meta=meta, description="level roll-up adds up")


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            name=f"no_{finding}",
            asset=RECOGNITION_KEY,
            blocking=False,
            description=f"互认发现 {finding}：计数及最多 {SAMPLE} 个样例主键（告警，不阻断）",
        )
        for finding in FINDINGS_SQL
    ],
)
def recognition_finding_checks(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    """One warning check per finding kind, counted in one query (one Dagster step for all five)."""
    with warehouse.connection() as con:
        counts = finding_counts(con)
        samples = {finding: finding_sample(con, finding) for finding in FINDINGS_SQL if counts[finding]}
    yield from _results(context, warehouse, [
        dict(name=f"no_{finding}", asset=RECOGNITION_KEY, passed=counts[finding] == 0,
             meta={"count": counts[finding], "sample_keys": samples.get(finding, [])},
             description=f"{counts[finding]} {finding} finding(s)", blocking=False)
        for finding in FINDINGS_SQL
    ])


def build_checks(config: HubConfig) -> list[dg.AssetChecksDefinition]:
    checks = [build_key_check(e) for e in LOAD_ORDER]
    checks += [build_accounting_check(s) for s in config.streams()]
    checks.append(levels_add_up)
    checks.append(recognition_finding_checks)
    return checks
