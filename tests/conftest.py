"""Shared fixtures: real DuckDB files in tmp folders, real SQLite sources, valid Chinese codes."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from pipelines.config import FieldSpec, StreamConfig
from pipelines.demo_data import id_check_char, uscc_check_char


def uscc(body17: str) -> str:
    """Complete a 17-char body with its GB 32100-2015 check character."""
    return body17 + uscc_check_char(body17)


def resident_id(body17: str) -> str:
    """Complete a 17-digit body with its GB 11643-1999 check character."""
    return body17 + id_check_char(body17)


DEPT = uscc("11150000MB0000000")  # the department that registers test sources (valid USCC)


HOLDER = uscc("91150100MA0000001")  # a valid licence holder's USCC
PG = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def pg_licence_table(prefix: str, extra_columns: str = "", extra_values: str = "", rows: int = 500):
    """A PostgreSQL licence table (XKZBH, TYSHXYDM, QYMC, FZRQ, [extra,] GXSJ timestamptz) of
    `rows` valid licences of HOLDER, dropped afterwards; yields its name."""
    import uuid

    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as con:
        con.execute(f"CREATE TABLE {name} (XKZBH text, TYSHXYDM char(18), QYMC text, FZRQ date,"
                    f" {extra_columns}{', ' if extra_columns else ''}GXSJ timestamptz)")
        con.execute(
            f"INSERT INTO {name} SELECT 'PG' || g, %s, '包头市某某公司' || g, DATE '2024-01-01' + g,"
            f" {extra_values}{', ' if extra_values else ''}"
            " TIMESTAMPTZ '2024-05-01 00:00:00+08' + g * INTERVAL '1 minute' FROM generate_series(1, %s) g",
            [HOLDER, rows],
        )
    try:
        yield name
    finally:
        with psycopg.connect(PG, autocommit=True) as con:
            con.execute(f"DROP TABLE {name}")


def licence_stream(url: str, table: str, *, engine: str | None = None, extra_fields: str = "") -> str:
    """A sources-file block of one source (department DEPT) with a `licenses` stream of `table`
    (XKZBH, TYSHXYDM, QYMC, FZRQ, cursor GXSJ); `extra_fields` adds field lines."""
    engine_key = f", engine: {engine}" if engine else ""
    return f"""
    department: "{DEPT}"
    connection: {{kind: sql, url: "{url}"{engine_key}}}
    streams:
      licenses:
        entity: license
        table: {table}
        key: [XKZBH]
        cursor: GXSJ
        fields:
          license_no: XKZBH
          holder_code: TYSHXYDM
          holder_name: QYMC
          issued_on: FZRQ
          issuing_dept_code: {{value: "{DEPT}"}}{extra_fields}
"""


def stream(entity: str, fields: dict, key=("ID",), cursor=None) -> StreamConfig:
    """A test stream of source `t` into `entity`: `fields` maps a field to a column name or FieldSpec keys."""
    specs = {
        name: FieldSpec(name=name, column=spec) if isinstance(spec, str) else FieldSpec(name=name, **spec)
        for name, spec in fields.items()
    }
    return StreamConfig(source="t", name=entity, entity=entity, key=tuple(key), fields=specs, table="X", cursor=cursor)


def load(con, st: StreamConfig, rows: dict):
    """Load one batch of text columns through the real loader."""
    import pyarrow as pa

    from warehouse.loading import load_batch, register_source

    register_source(con, st, department=DEPT, label="test", kind="sql")
    return load_batch(con, st, [pa.record_batch({k: pa.array(v, pa.string()) for k, v in rows.items()})])


@pytest.fixture
def with_refs(warehouse):
    """A warehouse holding one department (DEPT, region 150000) and one matter (XK001, 150100)."""
    load(warehouse, stream("department", {"dept_code": "C", "name": "N", "region_code": "R"}, key=("C",)),
         {"C": [DEPT], "N": ["住建厅"], "R": ["150000"]})
    load(warehouse, stream("matter", {"matter_code": "M", "name": "N", "region_code": "R"}, key=("M", "R")),
         {"M": ["XK001"], "N": ["建筑工程施工许可"], "R": ["150100"]})
    return warehouse


PG_URLS = ["postgresql://postgres@127.0.0.1:5432/test", "postgresql://root@127.0.0.1:5432/test"]


def find_pg_url() -> str | None:
    """The URL of the live PostgreSQL `test` database (trust auth), or None when none answers."""
    import sqlalchemy as sa

    for url in PG_URLS:
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.pool.NullPool)
        try:
            with engine.connect():
                return url
        except sa.exc.OperationalError:
            continue
        finally:
            engine.dispose()
    return None


@pytest.fixture(scope="module")
def pg_url():
    url = find_pg_url()
    if url is None:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432/test")
    return url


@pytest.fixture
def warehouse(tmp_path):
    from warehouse.connection import connect
    from warehouse.schema import create_schema

    con = connect(tmp_path / "wh.duckdb")
    create_schema(con)
    yield con
    con.close()


@pytest.fixture(autouse=True)
def _reports_in_tmp(tmp_path_factory, monkeypatch):
    """Runs in tests write their quality report into a temporary folder, not the checkout."""
    monkeypatch.setenv("HUB_REPORTS", str(tmp_path_factory.getbasetemp() / "reports"))
