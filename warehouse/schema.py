"""DDL of model.md: the five schemas, the core entities, quality and meta tables, with Chinese comments.

Idempotent (`IF NOT EXISTS`), so every run can call `create_schema` before it loads anything; a
warehouse already made by this version of the model is not touched (meta.schema_version).
"""

from __future__ import annotations

import csv
import hashlib
from importlib import resources

from warehouse.connection import transaction
from warehouse.model import ENTITIES, Entity
from warehouse.sql import insert_rows

SCHEMAS = {
    "raw": "原始层：各来源抽取的原始记录及血缘字段，按批次追加",
    "core": "标准层：统一模型实体，每个业务主键一条黄金记录",
    "quality": "质量层：隔离记录、检查结果、跨部门跨层级互认发现",
    "share": "共享层：供各部门查询的只读视图",
    "meta": "元数据：抽取水位、文件台账、批次",
}

LINEAGE_DDL = (
    "_source VARCHAR NOT NULL, _source_key VARCHAR, _batch_id VARCHAR NOT NULL, _loaded_at TIMESTAMP NOT NULL"
)

TABLES = {
    "core.region": (
        "region_code VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, level VARCHAR NOT NULL,"
        " parent_code VARCHAR, division_type VARCHAR",
        "行政区划（GB/T 2260，内蒙古 150000）：level ∈ region 自治区 / league 盟市 / banner 旗县区",
    ),
    "core.region_stat_only": (
        "region_code VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, parent_code VARCHAR",
        "统计用区划（开发区、管理区等，非 GB/T 2260 代码）：接受但告警",
    ),
    "quality.quarantine": (
        "entity VARCHAR NOT NULL, _source VARCHAR NOT NULL, _source_key VARCHAR, reason VARCHAR NOT NULL,"
        " detail VARCHAR, raw JSON, _batch_id VARCHAR NOT NULL, quarantined_at TIMESTAMP NOT NULL,"
        " _row_no BIGINT, resolved_batch_id VARCHAR, resolved_at TIMESTAMP",
        "隔离区：未能进入标准层的来源记录及原因（每条来源记录每个原因一行，绝不静默丢弃）；"
        "来源更正后该记录入库时填写 resolved_at",
    ),
    "quality.check_results": (
        "check_name VARCHAR NOT NULL, asset VARCHAR, passed BOOLEAN NOT NULL, severity VARCHAR,"
        " description VARCHAR, metadata JSON, run_id VARCHAR, checked_at TIMESTAMP NOT NULL,"
        " PRIMARY KEY (check_name, asset)",
        "质量检查结果：每项检查的最近一次结果（历次结果见 Dagster 运行记录）",
    ),
    "quality.expectation_results": (
        "_batch_id VARCHAR NOT NULL, _source VARCHAR NOT NULL, entity VARCHAR NOT NULL, suite VARCHAR NOT NULL,"
        " expectation_type VARCHAR NOT NULL, column_name VARCHAR, reason VARCHAR, success BOOLEAN NOT NULL,"
        " unexpected_count BIGINT, element_count BIGINT, validated_at TIMESTAMP NOT NULL",
        "Great Expectations 校验结果：每批每条期望的不合格行数（与隔离区按原因一一对应）",
    ),
    "quality.recognition": (
        "finding VARCHAR NOT NULL, entity VARCHAR NOT NULL, key VARCHAR NOT NULL, fields VARCHAR,"
        " sources VARCHAR, detected_at TIMESTAMP NOT NULL, detail VARCHAR,"
        " PRIMARY KEY (finding, entity, key)",
        "跨部门跨层级信息互认发现：冲突、重复盖章、孤儿证照、同标准偏差、未知持证证照",
    ),
    "meta.batches": (
        "_batch_id VARCHAR PRIMARY KEY, _source VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL,"
        " finished_at TIMESTAMP, status VARCHAR NOT NULL, extracted BIGINT NOT NULL, loaded BIGINT NOT NULL,"
        " quarantined BIGINT NOT NULL, file VARCHAR, watermark VARCHAR",
        "抽取批次：每批抽取、入库、隔离行数（抽取 = 入库 + 隔离）",
    ),
    "meta.watermarks": (
        "_source VARCHAR PRIMARY KEY, cursor_column VARCHAR NOT NULL, value VARCHAR NOT NULL,"
        " _batch_id VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL",
        "增量抽取水位：与数据在同一事务中推进",
    ),
    "meta.files": (
        "_source VARCHAR NOT NULL, path VARCHAR NOT NULL, size BIGINT NOT NULL, sha256 VARCHAR NOT NULL,"
        " _batch_id VARCHAR NOT NULL, loaded_at TIMESTAMP NOT NULL, PRIMARY KEY (_source, path, sha256)",
        "前置机交换目录文件台账：每个文件（路径、大小、内容哈希）只加载一次",
    ),
    "meta.row_versions": (
        "_source VARCHAR NOT NULL, _source_key VARCHAR, _row_hash UBIGINT NOT NULL",
        "整表抽取（无增量字段）的数据流：每个来源主键最近一次落地内容的哈希，重复抽取的未变行不再入批",
    ),
    "meta.schema_version": (
        "fingerprint VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL",
        "模型版本：建表语句的指纹（与本版本一致且各表齐全时，每次运行不再重复建表与注释）",
    ),
    "meta.last_run": (
        "run_id VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, scope VARCHAR NOT NULL,"
        " reason VARCHAR, streams VARCHAR, success BOOLEAN, hub_version VARCHAR",
        "最近一次 hub run（一行）：范围 scope（all 全部资产 / changed 仅有新数据的数据流及其下游）、原因、结果；"
        "success 为空表示运行未结束（被中断）。历次运行见 Dagster 运行记录",
    ),
    "meta.refresh_marks": (
        "name VARCHAR PRIMARY KEY, through_batch VARCHAR NOT NULL, refreshed_at TIMESTAMP NOT NULL,"
        " full_refresh_at TIMESTAMP NOT NULL, definition_sha VARCHAR NOT NULL",
        "派生结果的计算进度：每个派生表（如 quality.recognition）已覆盖到的最新批次，之后只重算受新批次影响的部分",
    ),
    "meta.sources": (
        "_source VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, stream VARCHAR NOT NULL, entity VARCHAR NOT NULL,"
        " department VARCHAR NOT NULL, label VARCHAR, kind VARCHAR NOT NULL",
        "来源登记：每个来源数据流及其所属部门（用于黄金记录的发证机关优先规则）",
    ),
}


# Columns added after a table was first released: warehouses created earlier gain them on the next
# run (CREATE TABLE IF NOT EXISTS leaves an existing table as it is).
ADDED_COLUMNS = (
    ("quality.quarantine", "resolved_batch_id", "VARCHAR"),
    ("quality.quarantine", "resolved_at", "TIMESTAMP"),
    # A ledgered file whose path, size and inode change time are unchanged is not read again.
    ("meta.files", "ctime_ns", "BIGINT"),
    # A stream whose declaration changed runs again even with no new source rows (pipelines/run_plan.py).
    ("meta.sources", "config_sha", "VARCHAR"),
)


def _entity_ddl(entity: Entity, *, record: bool = False) -> str:
    cols = [f"{c.name} {'INTEGER' if c.name == 'score' else c.sql_type}" for c in entity.cols]
    cols += [f"{name} {sql_type}" for name, sql_type, _expr, _label in entity.derived]
    extra = ", _cursor VARCHAR, _cursor_at TIMESTAMP" if record else ""
    extra += ", n_sources INTEGER" if entity.name == "license" and not record else ""
    # The business key is kept unique by the merge (delete-then-insert per batch) and checked by a
    # blocking asset check, not by a DuckDB PRIMARY KEY: its ART index made loads 3x slower and
    # held the whole key set in memory at millions of rows.
    return f"{', '.join(cols)}{extra}, {LINEAGE_DDL}"


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def model_tables() -> dict[str, tuple[str, str]]:
    """Every table of the model: name → (column DDL, Chinese comment)."""
    tables = dict(TABLES)
    for entity in ENTITIES.values():
        tables[entity.table] = (_entity_ddl(entity), f"{entity.label}（{entity.name}）：黄金记录")
    lic = ENTITIES["license"]
    tables["core.license_record"] = (
        _entity_ddl(lic, record=True),
        "证照来源记录：每个来源对每张证照的记录（主键 _source + license_no）",
    )
    return tables


def schema_statements() -> list[str]:
    """Every statement that creates the model's schemas, tables, columns and comments (idempotent)."""
    statements = [f"CREATE SCHEMA IF NOT EXISTS {schema}" for schema in SCHEMAS]
    # DuckDB keeps no schema comments; SCHEMAS documents the layers for the README and the UI.
    for name, (ddl, comment) in model_tables().items():
        statements.append(f"CREATE TABLE IF NOT EXISTS {name} ({ddl})")
        statements.append(f"COMMENT ON TABLE {name} IS {_sql_literal(comment)}")
    for table, column, sql_type in ADDED_COLUMNS:
        statements.append(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {sql_type}")
    for entity in ENTITIES.values():
        targets = [entity.table] + (["core.license_record"] if entity.name == "license" else [])
        for table in targets:
            for c in entity.cols:
                statements.append(f"COMMENT ON COLUMN {table}.{c.name} IS {_sql_literal(c.label)}")
    return statements


def create_schema(con) -> None:
    """Create every schema, table and comment of the model, unless the warehouse has them already.

    The model's statements are fingerprinted into meta.schema_version: a warehouse made by this
    version of the hub, with all its tables still there, is left untouched. Running the ~200
    statements (and rewriting every comment into the catalogue) cost each run about 0.07 s.
    """
    statements = schema_statements()
    fingerprint = hashlib.sha256("\n".join(statements).encode("utf-8")).hexdigest()
    if _has_schema(con, fingerprint, set(model_tables())):
        return
    # One transaction: a run killed while it creates the model or fills the reference data leaves
    # the warehouse as it was, and the next run creates it whole. (Row by row in autocommit, a
    # kill once left 62 of core.region's 116 rows, and every later batch quarantined the codes
    # of the other 54 as unknown_region.)
    with transaction(con):
        for statement in statements:
            con.execute(statement)
        load_regions(con)
        con.execute("DELETE FROM meta.schema_version")
        con.execute("INSERT INTO meta.schema_version VALUES ($1, now()::TIMESTAMP)", [fingerprint])


def _has_schema(con, fingerprint: str, tables: set[str]) -> bool:
    present = {
        f"{schema}.{table}"
        for schema, table in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    if not tables <= present:
        return False
    recorded = con.execute("SELECT fingerprint FROM meta.schema_version").fetchall()
    return recorded == [(fingerprint,)]


def load_regions(con) -> None:
    """Fill core.region and core.region_stat_only from the GB/T 2260 lists shipped with the
    project, unless they hold exactly those codes already (so a warehouse left with a part of
    them by an older version is completed). The caller holds the transaction."""
    ref = resources.files("warehouse") / "reference"
    rows = []
    with (ref / "gbt2260_150000.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            code = r["code"]
            level = "region" if code == "150000" else "league" if code.endswith("00") else "banner"
            rows.append((code, r["name"], level, r["parent_code"] or None, r["level"]))
    with (ref / "stat_only_zones_150000.csv").open(encoding="utf-8") as fh:
        zones = [(r["code"], r["name"], r["parent_code"] or None) for r in csv.DictReader(fh)]
    for table, values in (("core.region", rows), ("core.region_stat_only", zones)):
        have = {code for (code,) in con.execute(f"SELECT region_code FROM {table}").fetchall()}
        if have == {v[0] for v in values}:
            continue
        con.execute(f"DELETE FROM {table}")
        insert_rows(con, table, values)
