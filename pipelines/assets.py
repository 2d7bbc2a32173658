"""The asset graph, generated from the sources file.

source stream (group per source department) → core entity (group `core`) → share view (group
`share`). Reference entities (departments, matters) come before the entities that refer to them,
so a case stream waits for `core/department` and `core/matter`.
"""


from collections.abc import Iterable
from datetime import date, timedelta

import dagster as dg

from connectors.errors import SourceError
from pipelines.config import ConfigError, HubConfig, StreamConfig
from pipelines.extract import run_stream
from pipelines.resources import WarehouseResource
from pipelines.settings import reports_dir
from quality.recognition import refresh_recognition
from warehouse.connection import WarehouseError, is_postgres
from warehouse.loading import LoadError
from warehouse.model import ENTITIES, LOAD_ORDER
from warehouse.share import VIEWS, create_views, fill_workday_calendar

KIND_TAGS = {"sql": "sql", "odbc": "odbc", "file": "file", "http": "api"}


def stream_key(stream: StreamConfig) -> dg.AssetKey:
    return dg.AssetKey(["raw", stream.source, stream.name])


def core_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(["core", entity])


def share_key(view: str) -> dg.AssetKey:
    return dg.AssetKey(["share", view.split(".", 1)[1]])


def _count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def build_stream_asset(config: HubConfig, stream: StreamConfig) -> dg.AssetsDefinition:
    source = config.sources[stream.source]
    entity = ENTITIES[stream.entity]
    deps = [core_key(e) for e in entity.depends_on] + [core_key("region")]
    where = stream.table or "query" if source.kind in ("sql", "odbc") else stream.options.get("pattern")
    description = (
        f"{source.label} · {stream.label or entity.label}：从 {source.kind} 来源 `{where}` 增量抽取，"
        f"落入 raw，按统一模型标准化、校验后并入 core.{entity.name}（不合格行进入 quality.quarantine）。\n\n"
        f"Extracts `{stream.qualified_name}` into raw.{stream.source}__{stream.name}, normalises it and"
        f" merges it into core.{entity.name}; failing rows are quarantined with a reason."
    )

    @dg.asset(
        key=stream_key(stream),
        group_name=f"raw_{stream.source}",
        kinds={KIND_TAGS[source.kind], "duckdb"},
        description=description,
        deps=deps,
        owners=[],
        tags={"department": source.department, "entity": entity.name},
        metadata={"source": stream.qualified_name, "department": source.department, "label": source.label},
    )
    def _stream_asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connection() as con:
            try:
                result = run_stream(con, config, stream)
            except (SourceError, ConfigError, LoadError) as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from None
        context.log.info(
            f"{stream.qualified_name}: extracted {result.extracted}, loaded {result.loaded},"
            f" quarantined {result.quarantined} in {len(result.batches)} batch(es)"
        )
        metadata = {
            "extracted": result.extracted,
            "loaded": result.loaded,
            "quarantined": result.quarantined,
            "unchanged_rows_skipped": result.unchanged,
            "batches": len(result.batches),
            "batch_ids": ", ".join(b.batch_id for b in result.batches if b.batch_id) or "(no new rows)",
            "quarantine_reasons": dg.MetadataValue.json(result.reasons()),
            "seconds_per_step": dg.MetadataValue.json(result.seconds()),
            "dagster/row_count": result.loaded,
        }
        if result.errors:
            # Files that loaded are committed; the broken ones are named and retried next run.
            raise dg.Failure(
                description=f"{len(result.errors)} file(s) of {stream.qualified_name} could not be loaded:\n"
                + "\n".join(result.errors),
                metadata=metadata,
                allow_retries=False,
            )
        return dg.MaterializeResult(metadata=metadata)

    return _stream_asset


def build_core_asset(config: HubConfig, entity_name: str) -> dg.AssetsDefinition:
    entity = ENTITIES[entity_name]
    feeding = [stream_key(s) for s in config.streams() if s.entity == entity_name]
    columns = dg.TableSchema(
        columns=[dg.TableColumn(c.name, c.sql_type, description=c.label) for c in entity.cols]
    )

    @dg.asset(
        key=core_key(entity_name),
        group_name="core",
        kinds={"duckdb", "table"},
        description=(
            f"core.{entity_name} — {entity.label}：统一模型黄金记录，每个业务主键（{', '.join(entity.key)}）一行。"
            f"\n\nThe canonical {entity_name} table, one golden row per business key, with lineage columns."
        ),
        deps=feeding,
        metadata={"dagster/column_schema": columns, "dagster/table_name": f"core.{entity_name}"},
    )
    def _core_asset(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connection() as con:
            if entity_name == "license":
                # Validity ends with time: a valid licence past valid_to now reads as expired.
                con.execute(
                    "UPDATE core.license SET status = 'expired'"
                    " WHERE status = 'valid' AND valid_to < current_date"
                )
            rows = _count(con, entity.table)
            metadata = {"dagster/row_count": rows}
            if entity_name == "license":
                metadata["license_records"] = _count(con, "core.license_record")
        return dg.MaterializeResult(metadata=metadata)

    return _core_asset


@dg.asset(
    key=core_key("region"),
    group_name="core",
    kinds={"duckdb", "table"},
    description="core.region — 行政区划（GB/T 2260，内蒙古 150000：1 个自治区、12 个盟市、103 个旗县区），随项目发布。",
)
def region_reference(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connection() as con:
        rows = _count(con, "core.region")
        zones = _count(con, "core.region_stat_only")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "stat_only_zones": zones})


@dg.asset(
    key=core_key("workday"),
    group_name="core",
    kinds={"duckdb", "table"},
    description="core.workday — 国家法定工作日历（节假日与调休），用于承诺工作日的计算。",
)
def workday_calendar(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connection() as con:
        fill_workday_calendar(con, date(2004, 1, 1), date.today() + timedelta(days=366))
        rows = _count(con, "core.workday")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


RECOGNITION_KEY = dg.AssetKey(["quality", "recognition"])


@dg.asset(
    key=RECOGNITION_KEY,
    group_name="quality",
    kinds={"duckdb", "table"},
    description=(
        "quality.recognition — 跨部门跨层级信息互认发现：conflict 多源冲突、duplicate_issuance 划转后主管部门重复盖章、"
        "orphan_license 无批准办件的证照、standard_deviation 同一事项标准不一、unknown_holder_license 监管反馈指向未知证照。"
    ),
    deps=[core_key(e) for e in ("license", "case", "matter", "feedback", "department")],
)
def recognition_findings(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connection() as con:
        counts, recomputed = refresh_recognition(con)
    return dg.MaterializeResult(metadata={"dagster/row_count": sum(counts.values()), **counts,
                                          "recomputed": ", ".join(recomputed) or "(none: no table they read changed)"})


REPORT_KEY = dg.AssetKey(["quality", "report"])


@dg.asset(
    key=REPORT_KEY,
    group_name="quality",
    kinds={"html"},
    description=(
        "数据质量报告：按原因、按部门统计的隔离行数与互认发现（index.html），以及 Great Expectations Data Docs"
        "（data_docs/index.html）。The quality report, written to HUB_REPORTS (default data/reports)."
    ),
    deps=[RECOGNITION_KEY] + [core_key(e) for e in LOAD_ORDER],
)
def quality_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from quality.report import build_report

    with warehouse.connection() as con:
        index = build_report(con, reports_dir())
    context.log.info(f"quality report: {index}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(index)),
                                          "data_docs": dg.MetadataValue.path(str(index.parent / "data_docs" / "index.html"))})


VIEW_DEPS = {
    "share.license_registry": ["license", "department", "recognition"],
    "share.holder_licenses": ["license"],
    "share.overdue_cases": ["case", "workday"],
    "share.push_sla": ["push"],
    "share.level_rollup": ["case", "license", "department", "region"],
}


def build_share_asset(view: str) -> dg.AssetsDefinition:
    _sql, comment = VIEWS[view]

    @dg.asset(
        key=share_key(view),
        group_name="share",
        kinds={"duckdb", "view"},
        description=f"{view} — {comment}",
        deps=[RECOGNITION_KEY if e == "recognition" else core_key(e) for e in VIEW_DEPS[view]],
        metadata={"dagster/table_name": view},
    )
    def _share_asset(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connection() as con:
            create_views(con, [view])
            rows = _count(con, view)
        return dg.MaterializeResult(metadata={"dagster/row_count": rows})

    return _share_asset


PUBLICATION_KEY = dg.AssetKey(["meta", "postgres_publication"])


@dg.asset(
    key=PUBLICATION_KEY,
    group_name="share",
    kinds={"postgres"},
    description=(
        "发布到 PostgreSQL 共享库：HUB_WAREHOUSE 为 postgresql:// 时，把 raw、core、quality、meta 各表与 share 视图"
        "（以表的形式）在一个事务内同步到 PostgreSQL，各部门在共享服务器上查询同名的表；DuckDB 仓库时无需发布。"
        "\n\nPublishes the warehouse to PostgreSQL (warehouse/postgres.py) when HUB_WAREHOUSE is a PostgreSQL URL:"
        " raw gets the new batches, every other table that changed is replaced, all in one transaction."
    ),
    deps=[core_key(e) for e in LOAD_ORDER] + [core_key("region"), core_key("workday"), RECOGNITION_KEY]
    + [share_key(v) for v in VIEWS],
)
def postgres_publication(warehouse: WarehouseResource) -> dg.MaterializeResult:
    if not is_postgres(warehouse.target):
        return dg.MaterializeResult(metadata={"published": "DuckDB 仓库，无需发布（the warehouse is a DuckDB file）"})
    from warehouse.postgres import publish

    with warehouse.connection() as con:
        try:
            result = publish(con, warehouse.target)
        except WarehouseError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
    return dg.MaterializeResult(metadata={
        "tables_published": len(result.published),
        "rows_written": sum(result.published.values()),
        "tables_unchanged": result.unchanged,
        "published": dg.MetadataValue.json(result.published),
        "seconds_per_table": dg.MetadataValue.json(result.seconds_per_table),
        "seconds": round(result.seconds, 3),
    })


def planned_assets(config: HubConfig, streams: Iterable[str], graph, *, publish: bool = True) -> list[dg.AssetKey]:
    """The assets a run of only `streams` materialises: those streams, everything downstream of
    them, and the report. `graph` is the asset graph or the assets (what AssetSelection resolves).
    `publish=False` leaves out the PostgreSQL publication (a DuckDB warehouse has nothing to publish)."""
    wanted = set(streams)
    chosen = [stream_key(s) for s in config.streams() if s.qualified_name in wanted]
    selection = dg.AssetSelection.assets(*chosen).downstream() | dg.AssetSelection.assets(REPORT_KEY)
    return sorted(key for key in selection.resolve(graph) if publish or key != PUBLICATION_KEY)


def build_assets(config: HubConfig) -> list[dg.AssetsDefinition]:
    assets = [region_reference, workday_calendar, recognition_findings, quality_report, postgres_publication]
    assets += [build_stream_asset(config, s) for s in config.streams()]
    assets += [build_core_asset(config, e) for e in LOAD_ORDER]
    assets += [build_share_asset(v) for v in VIEWS]
    return assets
