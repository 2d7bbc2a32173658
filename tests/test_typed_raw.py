"""Raw keeps the types a bulk reader gives (integers, dates, timestamps); core ends the same.

A PostgreSQL table read through ADBC lands its date and timestamp columns typed (half the cost
of rendering them to text) and the stage takes them as they are; read through SQLAlchemy the same
rows arrive as text. Both must give the same core rows, and a stream whose engine changes keeps
one raw table: its typed columns become text, earlier values rendered as the text path renders them.
"""

from __future__ import annotations

import textwrap

import psycopg
import pytest

from pipelines.config import load_config
from pipelines.extract import run_stream
from tests.conftest import DEPT, PG, licence_stream, pg_licence_table

pytest.importorskip("adbc_driver_postgresql")



@pytest.fixture
def pg_table():
    with pg_licence_table(
        "t_typed", "YXQZ timestamp", "TIMESTAMP '2029-01-01 08:00:00' + g * INTERVAL '1.25 second'", rows=300
    ) as name:
        with psycopg.connect(PG, autocommit=True) as con:
            # One row with a bad party code: quarantined, its source row kept as JSON.
            con.execute(f"INSERT INTO {name} VALUES ('PGBAD', '91150100MA000000XX', '坏代码公司', DATE '2024-03-01',"
                        " TIMESTAMP '2029-01-01 08:00:00.5', TIMESTAMPTZ '2024-04-30 00:00:00+08')")
        yield name


def _config(tmp_path, table: str, engine: str):
    sources = tmp_path / f"sources_{engine}.yaml"
    block = licence_stream(PG, table, engine=engine, extra_fields="\n          valid_to: YXQZ")
    sources.write_text("sources:\n  pg:\n" + textwrap.indent(textwrap.dedent(block), "    "), encoding="utf-8")
    config = load_config(sources)
    return config, config.sources["pg"].streams["licenses"]


def _department(con) -> None:
    con.execute("INSERT INTO core.department (dept_code, name, _source, _batch_id, _loaded_at)"
                " VALUES ($1, '住建厅', 'test', 'b0', now()::TIMESTAMP)", [DEPT])


def _core(con) -> list[tuple]:
    return con.execute("SELECT license_no, holder_code, holder_name, issued_on, valid_to, status"
                       " FROM core.license ORDER BY license_no").fetchall()


def _quarantined(con) -> list[tuple]:
    rows = con.execute("SELECT _source_key, reason, raw FROM quality.quarantine ORDER BY 1, 2").fetchall()
    assert rows and all(reason == "bad_uscc" for _, reason, _ in rows)
    return rows


def _raw_types(con) -> dict[str, str]:
    return dict(con.execute("SELECT column_name, data_type FROM information_schema.columns"
                            " WHERE table_schema = 'raw' AND table_name = 'pg__licenses'").fetchall())


def test_typed_raw_and_text_raw_give_the_same_core(tmp_path, pg_table, warehouse):
    _department(warehouse)
    config, stream = _config(tmp_path, pg_table, "adbc")
    assert run_stream(warehouse, config, stream).loaded == 300
    types = _raw_types(warehouse)
    assert (types["FZRQ"], types["YXQZ"], types["GXSJ"], types["QYMC"]) == ("DATE", "TIMESTAMP", "TIMESTAMP", "VARCHAR")
    typed_core = _core(warehouse)
    kept = warehouse.execute("SELECT YXQZ FROM raw.pg__licenses WHERE XKZBH = 'PG1'").fetchone()[0]
    assert kept.microsecond == 250000  # the value as it came, fraction of a second included

    other = connect_fresh(tmp_path / "text.duckdb")
    try:
        config, stream = _config(tmp_path, pg_table, "sqlalchemy")
        assert run_stream(other, config, stream).loaded == 300
        assert _quarantined(other) == _quarantined(warehouse)  # the same JSON, texts, whichever engine
        assert set(_raw_types(other).values()) == {"VARCHAR", "BIGINT", "TIMESTAMP"}  # lineage: _row_no, _loaded_at
        assert _raw_types(other)["FZRQ"] == "VARCHAR"
        assert _core(other) == typed_core
        text_raw = other.execute('SELECT XKZBH, FZRQ, YXQZ, GXSJ FROM raw.pg__licenses ORDER BY 1').fetchall()
    finally:
        other.close()

    # The engine changes: the typed raw columns become text, rendered as the text path renders them.
    with psycopg.connect(PG, autocommit=True) as pg:
        pg.execute(f"UPDATE {pg_table} SET QYMC = QYMC || '（更名）', GXSJ = GXSJ + INTERVAL '1 day' WHERE XKZBH = 'PG1'")
    config, stream = _config(tmp_path, pg_table, "sqlalchemy")
    assert run_stream(warehouse, config, stream).loaded == 1
    assert _raw_types(warehouse)["FZRQ"] == "VARCHAR" and _raw_types(warehouse)["YXQZ"] == "VARCHAR"
    widened = warehouse.execute("SELECT XKZBH, FZRQ, YXQZ, GXSJ FROM raw.pg__licenses"
                                " WHERE _row_no IS NOT NULL ORDER BY 1, GXSJ").fetchall()
    first_batch = [row for row in widened if row[3] < "2024-05-02"]
    assert first_batch == text_raw
    assert warehouse.execute("SELECT holder_name FROM core.license WHERE license_no = 'PG1'").fetchone() == (
        "包头市某某公司1(更名)",)  # NFKC folds the full-width brackets


ODBC = "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;Database=test;Uid=postgres;"


def test_arrow_odbc_lands_typed_too_and_gives_the_same_core(tmp_path, pg_table, warehouse):
    """The same table over psqlODBC (arrow-odbc): dates and timestamps land typed; core rows equal
    those of the text path."""
    pytest.importorskip("arrow_odbc")
    from connectors.errors import SourceError
    from connectors.odbc import check_odbc

    try:
        check_odbc(ODBC, source="pg", retry_delays=())
    except SourceError as exc:
        pytest.skip(f"psqlODBC not usable here: {exc}")
    _department(warehouse)
    config, stream = _config(tmp_path, pg_table, "sqlalchemy")
    block = (tmp_path / "sources_sqlalchemy.yaml").read_text(encoding="utf-8")
    odbc_sources = tmp_path / "sources_odbc.yaml"
    odbc_sources.write_text(block.replace(f'kind: sql, url: "{PG}", engine: sqlalchemy',
                                          f'kind: odbc, connection_string: "{ODBC}"'), encoding="utf-8")
    odbc_config = load_config(odbc_sources)
    assert odbc_config.sources["pg"].kind == "odbc"
    assert run_stream(warehouse, odbc_config, odbc_config.sources["pg"].streams["licenses"]).loaded == 300
    types = _raw_types(warehouse)
    assert types["FZRQ"] == "DATE" and types["YXQZ"].startswith("TIMESTAMP") and types["QYMC"] == "VARCHAR"
    odbc_core = _core(warehouse)

    other = connect_fresh(tmp_path / "text.duckdb")
    try:
        assert run_stream(other, config, stream).loaded == 300
        assert _core(other) == odbc_core
    finally:
        other.close()


def connect_fresh(path):
    from warehouse.connection import connect
    from warehouse.schema import create_schema

    con = connect(path)
    create_schema(con)
    _department(con)
    return con


def test_source_key_of_a_typed_key_is_the_text_paths(pg_table):
    """A key read typed (ADBC) gives the same `_source_key` as the same key read as text: the
    quarantine's resolution and a whole-table stream's row versions compare it across runs."""
    import pyarrow as pa

    from connectors.sql import read_sql
    from warehouse.loading import _source_key

    def keys(engine: str) -> list[str]:
        rows = pa.Table.from_batches(list(read_sql(PG, source="s", stream="t", table=pg_table, engine=engine,
                                                   typed=True)))
        return _source_key(rows, ("xkzbh", "yxqz", "fzrq")).to_pylist()  # PostgreSQL folds the names

    typed, text = keys("adbc"), keys("sqlalchemy")
    assert typed == text and "PG1|2029-01-01 08:00:01.250000|2024-01-02" in typed
    assert "PG4|2029-01-01 08:00:05|2024-01-05" in typed  # whole seconds: no fraction
