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


def test_a_failure_while_creating_the_model_leaves_nothing_behind(tmp_path, monkeypatch):
    """The model and its reference data are created in one transaction: a run killed (here: failing)
    half-way leaves the warehouse as it was, and the next one creates all of it."""
    import warehouse.schema

    real_load_regions = warehouse.schema.load_regions

    def load_part_then_fail(con):
        con.execute("INSERT INTO core.region VALUES ('150000', '内蒙古自治区', 'region', NULL, 'province')")
        raise RuntimeError("killed")

    monkeypatch.setattr(warehouse.schema, "load_regions", load_part_then_fail)
    con = connect(tmp_path / "wh.duckdb")
    try:
        create_schema(con)
    except RuntimeError:
        pass
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'core'").fetchone()[0] == 0
    monkeypatch.setattr(warehouse.schema, "load_regions", real_load_regions)
    create_schema(con)
    assert con.execute("SELECT count(*) FROM core.region").fetchone()[0] == 116
    con.close()


def test_reference_regions_left_incomplete_by_an_older_version_are_completed(tmp_path):
    """An older hub filled core.region row by row in autocommit: a kill could leave part of it, and
    no schema_version. The next run completes it (else every batch quarantines the missing codes)."""
    con = connect(tmp_path / "wh.duckdb")
    create_schema(con)
    full = con.execute("SELECT count(*), count(DISTINCT level) FROM core.region").fetchone()
    con.execute("DELETE FROM core.region WHERE region_code > '150500'")
    con.execute("DELETE FROM meta.schema_version")
    create_schema(con)
    assert con.execute("SELECT count(*), count(DISTINCT level) FROM core.region").fetchone() == full
    con.close()
