"""An unreachable source fails its own assets with a clear error; every other source still loads."""

from __future__ import annotations

import sqlite3
import textwrap

import duckdb
import pytest

from pipelines.config import load_config
from pipelines.runner import run_all
from tests.conftest import DEPT, HOLDER, PG, licence_stream, pg_licence_table


@pytest.fixture
def pg_table():
    with pg_licence_table("t_xkz") as name:
        yield name


def test_unreachable_source_fails_alone(tmp_path, pg_table, monkeypatch):
    db = tmp_path / "zj.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE T (XKZBH, TYSHXYDM, QYMC, FZRQ, GXSJ)")
    con.executemany("INSERT INTO T VALUES (?, ?, ?, ?, ?)",
                    [(f"ZJ{i}", HOLDER, "某公司", "20240101", f"2024-01-01 00:00:{i:02d}") for i in range(20)])
    con.commit()
    con.close()
    monkeypatch.setenv("DOWN_URL", "postgresql://hub:secret-pw@127.0.0.1:1/test")
    sources = tmp_path / "sources.yaml"
    reference = textwrap.dedent(f"""
        sources:
          reference:
            department: "{DEPT}"
            connection: {{kind: file, path: ref, settle_seconds: 0}}
            streams:
              departments:
                entity: department
                pattern: "*.csv"
                key: [code]
                fields: {{dept_code: code, name: name, region_code: region}}
        """)
    blocks = [(name, textwrap.indent(textwrap.dedent(licence_stream(url, table)), "    "))
              for name, url, table in (("zhujian", f"sqlite:///{db}", "T"), ("pg", PG, pg_table),
                                       ("down", "${DOWN_URL}", "T"))]
    sources.write_text(reference + "".join(f"  {name}:\n{body}" for name, body in blocks), encoding="utf-8")
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "d.csv").write_text(f"code,name,region\n{DEPT},住建厅,150000\n", encoding="utf-8")
    target = tmp_path / "wh.duckdb"
    summary = run_all(load_config(sources), str(target))
    assert not summary.success
    failure = " ".join(summary.failures)
    assert "down" in failure and "cannot connect" in failure
    assert "secret-pw" not in failure
    assert summary.streams["zhujian.licenses"]["loaded"] == 20, summary
    assert summary.streams.get("pg.licenses", {}).get("loaded") == 500, summary
    wh = duckdb.connect(str(target), read_only=True)
    assert wh.execute("SELECT count(*) FROM core.license_record").fetchone()[0] == 520
    # timestamptz arrives as Beijing wall-clock time, and is the watermark
    assert wh.execute("SELECT value FROM meta.watermarks WHERE _source = 'pg.licenses'").fetchone()[0] == (
        "2024-05-01 08:20:00")
    wh.close()


def test_hub_run_reports_a_failed_source_in_one_line_without_a_traceback(tmp_path, pg_table, monkeypatch, capsys):
    from pipelines.cli import main

    monkeypatch.setenv("DOWN_URL", "postgresql://hub:secret-pw@127.0.0.1:1/test")
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  down:\n" + textwrap.indent(textwrap.dedent(licence_stream("${DOWN_URL}", "T")),
                                                                "    "), encoding="utf-8")
    code = main(["run", "--sources", str(sources), "--warehouse", str(tmp_path / "wh.duckdb")])
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 1
    assert "Traceback" not in text and "dagster._core" not in text
    failed = [line for line in out.out.splitlines() if line.startswith("FAILED raw__down__licenses: ")]
    assert len(failed) == 1 and "source 'down'" in failed[0] and "cannot connect" in failed[0]
    assert "secret-pw" not in text


@pytest.mark.parametrize("engine", ["adbc", "sqlalchemy"])
def test_postgresql_source_reads_the_same_through_either_engine(tmp_path, pg_table, warehouse, engine):
    from pipelines.extract import run_stream

    sources = tmp_path / "sources.yaml"
    body = textwrap.indent(textwrap.dedent(licence_stream(PG, pg_table, engine=engine)), "    ")
    sources.write_text(f"sources:\n  pg:\n{body}", encoding="utf-8")
    warehouse.execute("INSERT INTO core.department (dept_code, name, _source, _batch_id, _loaded_at)"
                      " VALUES ($1, '住建厅', 'test', 'b0', now()::TIMESTAMP)", [DEPT])
    config = load_config(sources)
    assert config.sources["pg"].connection["engine"] == engine
    result = run_stream(warehouse, config, config.sources["pg"].streams["licenses"])
    assert (result.extracted, result.loaded) == (500, 500)
    assert warehouse.execute("SELECT value FROM meta.watermarks").fetchone()[0] == "2024-05-01 08:20:00"
    assert warehouse.execute(
        "SELECT holder_name, issued_on FROM core.license WHERE license_no = 'PG7'").fetchone() == (
        "包头市某某公司7", __import__("datetime").date(2024, 1, 8))


def test_typed_bulk_read_lands_the_same_text(pg_table, tmp_path, warehouse):
    """The ADBC path hands integers, dates and timestamps over typed; DuckDB renders them in bulk
    exactly as the connectors' text rules would."""
    import pyarrow as pa

    from connectors.sql import read_sql
    from warehouse.loading import _as_text

    text = pa.Table.from_batches(list(read_sql(PG, source="s", stream="t", table=pg_table)))
    typed = pa.Table.from_batches(list(read_sql(PG, source="s", stream="t", table=pg_table, typed=True)))
    assert any(not pa.types.is_string(f.type) for f in typed.schema)
    warehouse.register("typed_rows", typed)
    rendered = ", ".join(f'{_as_text(chr(34) + f.name + chr(34), f.type)} AS "{f.name}"' for f in typed.schema)
    via_duckdb = warehouse.sql(f"SELECT {rendered} FROM typed_rows").to_arrow_table()
    for name in text.schema.names:
        assert text.column(name).to_pylist() == via_duckdb.column(name).to_pylist(), name
