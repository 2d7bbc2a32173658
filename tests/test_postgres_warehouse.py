"""HUB_WAREHOUSE=postgresql://…: the demo computed in DuckDB and published to a live PostgreSQL.

Each test module gets its own PostgreSQL database (created and dropped here), so the five schemas
never mix with the source tables other tests keep in `test`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest

from pipelines.config import load_config
from pipelines.demo_data import generate_demo
from pipelines.runner import run, run_all
from warehouse.connection import WarehouseError, connect, local_file
from warehouse.postgres import MARKER, PUBLISHED, publish, restore

SCALE = 600


@contextmanager
def new_database(pg_url: str, name: str):
    """A PostgreSQL database of its own for a warehouse (dropped afterwards)."""
    from sqlalchemy.engine import make_url

    base = make_url(pg_url)
    admin = f"postgresql://{base.username}@{base.host}:{base.port or 5432}/{base.database}"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name}")
        con.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://{base.username}@{base.host}:{base.port or 5432}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def pg_warehouse(pg_url, tmp_path_factory):
    """A fresh PostgreSQL database for the warehouse, and a working-copy folder of its own."""
    cache = tmp_path_factory.mktemp("working_copies")
    old = os.environ.get("HUB_WAREHOUSE_CACHE")
    os.environ["HUB_WAREHOUSE_CACHE"] = str(cache)
    try:
        with new_database(pg_url, f"hub_wh_test_{os.getpid()}") as url:
            yield url
    finally:
        if old is None:
            os.environ.pop("HUB_WAREHOUSE_CACHE", None)
        else:
            os.environ["HUB_WAREHOUSE_CACHE"] = old


@pytest.fixture(scope="module")
def demo(pg_warehouse, tmp_path_factory):
    sources = generate_demo(tmp_path_factory.mktemp("pgdemo") / "sources", scale=SCALE)
    summary = run_all(load_config(sources), pg_warehouse)
    assert summary.success, summary.failures + summary.failed_checks
    return sources, pg_warehouse, summary


def pg_rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as con:
        return con.execute(sql).fetchall()


def pg_counts(url: str) -> dict[str, int]:
    tables = pg_rows(url, "SELECT table_schema || '.' || table_name, format('%I.%I', table_schema, table_name)"
                          " FROM information_schema.tables"
                          " WHERE table_schema IN ('raw', 'core', 'quality', 'share', 'meta') ORDER BY 1")
    return {t: pg_rows(url, f"SELECT count(*) FROM {quoted}")[0][0] for t, quoted in tables}


def working_counts(url: str) -> dict[str, int]:
    con = connect(url, read_only=True)
    try:
        tables = con.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables"
                             " WHERE table_schema IN ('raw', 'core', 'quality', 'share', 'meta')").fetchall()
        # (meta.publication is the working copy's own note of its last publication)
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for (t,) in tables if t != MARKER}
    finally:
        con.close()


def test_every_table_of_the_model_is_published_with_its_rows_and_comments(demo):
    _sources, url, summary = demo
    published = pg_counts(url)
    working = working_counts(url)
    # Every table and view of the working copy is in PostgreSQL under the same name, row for row
    # (quality.check_results grows after the publication: the finding checks run last).
    assert set(working) <= set(published)
    assert {t: n for t, n in published.items() if t in working and t != "quality.check_results"} == {
        t: n for t, n in working.items() if t != "quality.check_results"}
    assert published["core.case"] == summary.core["case"] > 0
    assert published["quality.quarantine"] > 0
    for view in ("share.overdue_cases", "share.license_registry", "share.level_rollup"):
        assert view in published
    comment = pg_rows(url, "SELECT obj_description('core.\"case\"'::regclass)")[0][0]
    assert comment.startswith("办件")
    assert pg_rows(url, "SELECT col_description('core.\"case\"'::regclass, 1)")[0][0] == "办件编号"
    # Typed columns stay typed; types PostgreSQL lacks (UBIGINT, JSON) travel as text.
    types = dict(pg_rows(url, "SELECT column_name, data_type FROM information_schema.columns"
                              " WHERE table_schema = 'core' AND table_name = 'case'"))
    assert types["received_at"] == "timestamp without time zone" and types["promised_days"] == "integer"
    indexes = " ".join(r[0] for r in pg_rows(url, "SELECT indexdef FROM pg_indexes WHERE schemaname = 'core'"))
    assert '"case" USING btree (case_no)' in indexes and "(matter_code, region_code)" in indexes
    objects = pg_rows(url, "SELECT count(*) FROM quality.quarantine WHERE jsonb_typeof(raw) = 'object'")
    assert objects[0][0] == published["quality.quarantine"]  # raw is jsonb: departments query it as JSON
    rollup = dict(pg_rows(url, "SELECT column_name, data_type FROM information_schema.columns"
                               " WHERE table_schema = 'share' AND table_name = 'level_rollup'"))
    assert rollup["cases"] == "bigint" and rollup["licenses"] == "bigint"  # DuckDB's HUGEINT sums


def test_a_run_with_nothing_new_publishes_only_what_changed(demo):
    sources, url, _ = demo
    before = pg_counts(url)
    summary = run_all(load_config(sources), url)
    assert summary.success
    assert summary.published["tables_unchanged"] > 20
    assert summary.published["tables_published"] <= 4  # run bookkeeping: check results, expectation results …
    after = pg_counts(url)
    assert {t: n for t, n in after.items() if not t.startswith("quality.")} == {
        t: n for t, n in before.items() if not t.startswith("quality.")}


def test_changed_source_rows_append_to_raw_and_replace_core(demo, tmp_path):
    sources, url, _ = demo
    before = pg_counts(url)
    config = load_config(sources)
    db = Path(config.sources["platform"].connection["url"].removeprefix("sqlite:///"))
    con = sqlite3.connect(db)
    keys = [k for (k,) in con.execute(
        "SELECT project_no FROM t_case_info WHERE result_code = '1' AND apply_name <> '' ORDER BY project_no LIMIT 5")]
    con.executemany("UPDATE t_case_info SET apply_name = apply_name || '（更名）', update_time = '2099-01-01 00:00:00'"
                    " WHERE project_no = ?", [(k,) for k in keys])
    con.commit()
    con.close()
    summary = run_all(config, url)
    assert summary.success
    assert summary.streams["platform.cases"]["extracted"] == 5
    after = pg_counts(url)
    assert after["raw.platform__cases"] == before["raw.platform__cases"] + 5  # appended, not copied again
    assert after["core.case"] == before["core.case"]
    renamed = pg_rows(url, "SELECT count(*) FROM core.\"case\" WHERE applicant_name LIKE '%更名%'")[0][0]
    assert renamed == summary.streams["platform.cases"]["loaded"] > 0  # (a defective row stays quarantined)
    # Only the new batch's rows travelled: appended to raw, replacing their keys in core.
    written = summary.published["published"]
    assert written["raw.platform__cases"] == 5
    assert written["core.case"] == summary.streams["platform.cases"]["loaded"]
    assert written["meta.batches"] == 1  # append-only tables travel by batch too
    assert 0 < written["quality.expectation_results"] < 30  # one batch's results, not the history
    batches = pg_rows(url, "SELECT count(DISTINCT _batch_id) FROM raw.platform__cases")[0][0]
    assert batches == pg_rows(url, "SELECT count(*) FROM meta.batches WHERE _source = 'platform.cases'")[0][0]


def test_a_fixed_source_row_resolves_its_quarantine_entry_in_postgresql(demo):
    """The quarantine travels by batch too: a row fixed at the source resolves its entry, and only
    that entry is rewritten in PostgreSQL."""
    sources, url, _ = demo
    truth = (sources.parent / "truth.csv").read_text(encoding="utf-8").splitlines()
    key = next(line.split(",")[4] for line in truth
               if ",missing_required,case,platform.cases," in line and "receive_time empty" in line)
    db = Path(load_config(sources).sources["platform"].connection["url"].removeprefix("sqlite:///"))
    con = sqlite3.connect(db)
    con.execute("UPDATE t_case_info SET receive_time = '2000-01-03 09:00:00', update_time = '2099-01-15 00:00:00'"
                " WHERE project_no = ?", (key,))
    con.commit()
    con.close()
    summary = run_all(load_config(sources), url)
    assert summary.success and summary.streams["platform.cases"]["loaded"] == 1
    assert summary.published["published"]["quality.quarantine"] == 1
    rows = pg_rows(url, f"SELECT resolved_at IS NOT NULL FROM quality.quarantine WHERE _source_key = '{key}'")
    assert rows == [(True,)]
    assert pg_counts(url)["quality.quarantine"] == working_counts(url)["quality.quarantine"]


def test_changed_licence_records_travel_by_key_and_the_golden_table_follows(demo):
    sources, url, _ = demo
    db = Path(load_config(sources).sources["platform"].connection["url"].removeprefix("sqlite:///"))
    con = sqlite3.connect(db)
    keys = [k for (k,) in con.execute("SELECT license_code FROM t_license WHERE holder_name <> ''"
                                      " ORDER BY license_code LIMIT 4")]
    con.executemany("UPDATE t_license SET holder_name = holder_name || '换证', update_time = '2099-01-20 00:00:00'"
                    " WHERE license_code = ?", [(k,) for k in keys])
    con.commit()
    con.close()
    summary = run_all(load_config(sources), url)
    assert summary.success
    loaded = summary.streams["platform.licenses"]["loaded"]
    assert loaded > 0
    assert summary.published["published"]["core.license_record"] == loaded  # by (_source, license_no)
    published, working = pg_counts(url), working_counts(url)
    for table in ("core.license_record", "core.license"):
        assert published[table] == working[table]
    renamed = pg_rows(url, "SELECT count(*) FROM core.license_record WHERE holder_name LIKE '%换证'")[0][0]
    assert renamed == loaded


def test_a_lost_working_copy_is_restored_from_postgresql(demo):
    sources, url, _ = demo
    before = pg_counts(url)
    path = local_file(url)
    path.unlink()
    Path(str(path) + ".wal").unlink(missing_ok=True)
    summary = run(sources, url, everything=True)
    assert summary.success, summary.failures
    assert path.exists()
    # Watermarks and the file ledger came back: nothing was extracted again.
    assert all(m["extracted"] == 0 for m in summary.streams.values())
    after = pg_counts(url)
    assert {t: n for t, n in after.items() if not t.startswith("quality.") and t != "meta.last_run"} == {
        t: n for t, n in before.items() if not t.startswith("quality.") and t != "meta.last_run"}


def test_a_failed_publication_leaves_postgresql_as_it_was(demo):
    sources, url, _ = demo
    before = pg_counts(url)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE FUNCTION hub_test_refuse() RETURNS trigger LANGUAGE plpgsql AS"
                    " $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$")
        con.execute("CREATE TRIGGER refuse BEFORE INSERT ON meta.last_run FOR EACH ROW EXECUTE FUNCTION hub_test_refuse()")
    try:
        summary = run_all(load_config(sources), url)
    finally:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("DROP TRIGGER refuse ON meta.last_run")
            con.execute("DROP FUNCTION hub_test_refuse()")
    assert not summary.success
    assert any("publication rolled back" in f and "refused by the test" in f for f in summary.failures)
    assert pg_counts(url) == before
    assert pg_rows(url, f"SELECT count(*) FROM {PUBLISHED}")[0][0] > 0


def test_an_unreachable_postgresql_warehouse_stops_the_run_before_any_extraction(demo, tmp_path):
    sources, _url, _ = demo
    target = "postgresql://hub:secret@127.0.0.1:1/nowhere"
    with pytest.raises(WarehouseError) as err:
        run(sources, target)
    assert "cannot connect" in str(err.value) and "secret" not in str(err.value)
    assert not local_file(target).exists()


def test_the_working_copy_follows_the_server_and_database(pg_warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_WAREHOUSE_CACHE", str(tmp_path))
    a = local_file("postgresql://u:p@db.example:5433/licences")
    b = local_file("postgresql+psycopg://u@db.example/licences")
    assert a.parent == tmp_path and a.name == "db.example-5433-licences.duckdb"
    assert b.name == "db.example-5432-licences.duckdb"
    assert "p@" not in str(a)  # the name holds no password


def test_types_postgresql_lacks_travel_as_text_and_come_back(pg_url, tmp_path):
    """UBIGINT (row versions) reaches PostgreSQL as numeric, JSON (quarantined rows) as jsonb, an
    INTERVAL as interval and a HUGEINT sum as bigint; the restored working copy has its own types."""
    from warehouse.schema import create_schema

    with new_database(pg_url, f"hub_wh_types_{os.getpid()}") as url:
        con = connect(tmp_path / "wh.duckdb")
        create_schema(con)
        con.execute("INSERT INTO meta.row_versions VALUES ('s.t', 'k1', 18446744073709551615)")
        con.execute("""INSERT INTO quality.quarantine (entity, _source, _source_key, reason, detail, raw, _batch_id,
                       quarantined_at, _row_no) VALUES ('case', 's.t', 'k1', 'bad_date', '受理日期',
                       '{"受理日期": "2024-13-01"}', 'b1', TIMESTAMP '2024-01-02 03:04:05', 1)""")
        con.execute("CREATE TABLE meta.hub_test_span AS SELECT INTERVAL 90 MINUTE AS span, sum(21) * 2 AS big")
        first = publish(con, url)
        assert {"meta.row_versions", "quality.quarantine", "meta.hub_test_span"} <= set(first.published)
        assert publish(con, url).published == {}  # nothing changed: nothing written
        con.close()
        assert pg_rows(url, "SELECT _row_hash FROM meta.row_versions") == [(Decimal("18446744073709551615"),)]
        assert pg_rows(url, "SELECT raw ->> '受理日期' FROM quality.quarantine") == [("2024-13-01",)]
        assert pg_rows(url, "SELECT span, big FROM meta.hub_test_span") == [(timedelta(minutes=90), 42)]
        copy = tmp_path / "restored.duckdb"
        assert restore(url, copy)
        con = connect(copy)
        assert con.execute("SELECT _row_hash FROM meta.row_versions").fetchall() == [(18446744073709551615,)]
        assert con.execute("SELECT typeof(_row_hash) FROM meta.row_versions").fetchall() == [("UBIGINT",)]
        assert con.execute("SELECT raw->>'受理日期', quarantined_at FROM quality.quarantine").fetchall()[0][0] == "2024-13-01"
        assert con.execute("SELECT count(*) FROM meta.schema_version").fetchall() == [(1,)]
        con.close()


def test_a_stale_working_copy_does_not_overwrite_newer_publications(demo, tmp_path):
    """A working copy that lacks batches PostgreSQL holds (another hub, an old backup) must not
    replace PostgreSQL's tables with its older content."""
    _sources, url, _ = demo
    before = pg_counts(url)
    stale = tmp_path / "stale.duckdb"
    shutil.copy(local_file(url), stale)
    con = connect(stale)
    newest = con.execute("SELECT max(_batch_id) FROM meta.batches").fetchall()[0][0]
    con.execute("DELETE FROM meta.batches WHERE _batch_id = $1", [newest])
    con.execute("DELETE FROM core.case")
    with pytest.raises(WarehouseError) as err:
        publish(con, url)
    con.close()
    assert "1 batch(es) this working copy does not" in str(err.value) and str(stale) in str(err.value)
    assert pg_counts(url) == before


def _change_cases(sources: Path, n: int, mark: str) -> None:
    config = load_config(sources)
    db = Path(config.sources["platform"].connection["url"].removeprefix("sqlite:///"))
    con = sqlite3.connect(db)
    keys = [k for (k,) in con.execute(
        "SELECT project_no FROM t_case_info WHERE result_code = '1' AND apply_name <> '' ORDER BY project_no DESC"
        f" LIMIT {n}")]
    con.executemany(f"UPDATE t_case_info SET apply_name = apply_name || '{mark}', update_time = '2099-02-01 00:00:00'"
                    " WHERE project_no = ?", [(k,) for k in keys])
    con.commit()
    con.close()


def test_an_older_working_copy_is_brought_up_to_date_from_postgresql(demo, tmp_path):
    sources, url, _ = demo
    path = local_file(url)
    old = tmp_path / "old.duckdb"
    shutil.copy(path, old)
    _change_cases(sources, 3, "（旧副本后）")
    assert run_all(load_config(sources), url).success
    after = pg_counts(url)
    shutil.copy(old, path)  # e.g. the disk came back from yesterday's backup
    Path(str(path) + ".wal").unlink(missing_ok=True)
    summary = run(sources, url)
    assert summary.success, summary.failures
    assert "older copy" in summary.reason
    assert all(m["extracted"] == 0 for m in summary.streams.values())  # the watermark came back too
    assert {t: n for t, n in pg_counts(url).items() if not t.startswith("quality.")} == {
        t: n for t, n in after.items() if not t.startswith("quality.")}
    assert list(path.parent.glob("*.stale-*.duckdb"))


def test_a_working_copy_that_diverged_from_postgresql_stops_the_run(demo, tmp_path):
    sources, url, _ = demo
    path = local_file(url)
    keep = tmp_path / "keep.duckdb"
    shutil.copy(path, keep)
    con = duckdb.connect(str(path))
    newest = con.execute("SELECT max(_batch_id) FROM meta.batches").fetchall()[0][0]
    con.execute("DELETE FROM meta.batches WHERE _batch_id = $1", [newest])
    con.execute("INSERT INTO meta.batches SELECT 'another-hub-batch', _source, started_at, finished_at, status,"
                " extracted, loaded, quarantined, file, watermark FROM meta.batches LIMIT 1")
    con.close()
    before = pg_counts(url)
    try:
        with pytest.raises(WarehouseError) as err:
            run(sources, url)
        assert "two hubs wrote this warehouse" in str(err.value)
        assert pg_counts(url) == before
    finally:
        shutil.copy(keep, path)


def test_an_emptied_postgresql_warehouse_starts_afresh(demo):
    """PostgreSQL recreated (or its schemas dropped) while the working copy remains: the copy is not
    published back (it would bring the deleted rows back); the run starts a new one."""
    sources, url, _ = demo
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP SCHEMA raw, core, quality, share, meta CASCADE")
    summary = run(sources, url)
    assert summary.success, summary.failures
    assert "emptied or recreated" in summary.reason
    assert summary.streams["platform.cases"]["extracted"] > 0  # read again from the source
    published = pg_counts(url)
    working = working_counts(url)
    assert published["core.case"] == working["core.case"] == summary.core["case"]
    assert published["meta.batches"] == working["meta.batches"] == len(summary.streams)
