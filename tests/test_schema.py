"""create_schema: the whole model on a new warehouse, nothing rewritten on one that has it."""

from __future__ import annotations

from warehouse.connection import connect
from warehouse.schema import create_schema, schema_statements


def _comment(con, table: str) -> str:
    schema, name = table.split(".")
    return con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = $1 AND table_name = $2", [schema, name]
    ).fetchone()[0]


def test_schema_is_created_once_then_left_alone(tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    create_schema(con)
    assert con.execute("SELECT count(*) FROM meta.schema_version").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM core.region").fetchone()[0] > 100
    assert "行政区划" in _comment(con, "core.region")
    # A warehouse of this model version is not touched: a comment changed by hand stays.
    con.execute("COMMENT ON TABLE core.case IS 'changed'")
    create_schema(con)
    assert _comment(con, "core.case") == "changed"
    con.close()


def test_a_missing_table_or_another_model_version_runs_the_statements_again(tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    create_schema(con)
    con.execute("DROP TABLE quality.recognition")
    create_schema(con)
    assert con.execute("SELECT count(*) FROM quality.recognition").fetchone()[0] == 0
    con.execute("UPDATE meta.schema_version SET fingerprint = 'an older model'")
    con.execute("COMMENT ON TABLE core.case IS 'changed'")
    create_schema(con)
    assert _comment(con, "core.case") != "changed"
    assert con.execute("SELECT fingerprint FROM meta.schema_version").fetchone()[0] != "an older model"
    assert any(s.startswith("CREATE TABLE IF NOT EXISTS meta.schema_version") for s in schema_statements())
    con.close()
