"""The demo end to end: sources → warehouse, compared with the generator's truth file.

One demo is generated and loaded once per module (real SQLite sources, a GB18030 exchange folder,
a DuckDB warehouse in a temporary folder), then each test reads the result.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from pipelines.config import load_config
from pipelines.demo_data import generate_demo
from pipelines.runner import run_all
from quality.recognition import FINDINGS_SQL

SCALE = 4000


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    sources = generate_demo(folder / "sources", scale=SCALE)
    target = str(folder / "warehouse.duckdb")
    summary = run_all(load_config(sources), target)
    assert summary.success, summary.failures + summary.failed_checks
    truth = list(csv.DictReader((sources.parent / "truth.csv").open(encoding="utf-8")))
    return sources, target, summary, truth


def read(target: str, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(target, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def row_counts(target: str) -> dict[str, int]:
    tables = read(
        target,
        "SELECT table_schema || '.' || table_name FROM information_schema.tables"
        " WHERE table_schema IN ('raw', 'core', 'quality', 'share', 'meta') ORDER BY 1",
    )
    return {t: read(target, f"SELECT count(*) FROM {t}")[0][0] for (t,) in tables}


def test_core_tables_are_filled(demo):
    _, target, summary, _ = demo
    counts = row_counts(target)
    for table in ("core.case", "core.license", "core.license_record", "core.matter", "core.department"):
        assert counts[table] > 0, table
    assert counts["core.region"] == 116
    assert counts["core.case"] > SCALE * 0.9


def test_every_injected_defect_is_quarantined_with_its_reason_and_nothing_else(demo):
    _, target, _, truth = demo
    expected = {(r["source"], r["key"], r["code"]) for r in truth if r["kind"] == "quarantine"}
    found = set(read(target, "SELECT _source, _source_key, reason FROM quality.quarantine"))
    assert found == expected
    assert len({reason for _, _, reason in found}) >= 6


def test_every_finding_is_recognised(demo):
    _, target, _, truth = demo
    expected = {(r["code"], r["entity"], r["key"], r["fields"] or None) for r in truth if r["kind"] == "finding"}
    found = set(read(target, "SELECT finding, entity, key, fields FROM quality.recognition"))
    assert found == expected


def test_every_check_outcome_is_recorded_beside_the_data(demo):
    """quality.check_results holds the last outcome of every check, the five finding checks (one
    statement for the five) with their counts as warnings."""
    _, target, summary, _ = demo
    rows = read(target, "SELECT check_name, asset, passed, severity, json_extract(metadata, '$.count'), run_id"
                        " FROM quality.check_results WHERE asset = 'quality/recognition' ORDER BY 1")
    counts = dict(read(target, "SELECT finding, count(*) FROM quality.recognition GROUP BY 1"))
    assert [r[0] for r in rows] == sorted(f"no_{f}" for f in FINDINGS_SQL)
    for name, _asset, passed, severity, count, run_id in rows:
        assert severity == "WARN" and int(count) == counts.get(name.removeprefix("no_"), 0)
        assert passed == (int(count) == 0) and run_id
    names = {r[0] for r in read(target, "SELECT check_name FROM quality.check_results")}
    assert {"business_key_unique_not_null", "rows_accounted_for", "levels_add_up"} <= names


def test_look_alikes_load_cleanly(demo):
    _, target, _, truth = demo
    lookalikes = [r for r in truth if r["kind"] == "not_a_defect"]
    assert lookalikes
    conflicts = {k for (k,) in read(target, "SELECT key FROM quality.recognition WHERE finding = 'conflict'")}
    for r in lookalikes:
        if r["code"] == "fullwidth_variant":
            assert r["key"] not in conflicts
            assert read(target, "SELECT n_sources FROM core.license WHERE license_no = $1", [r["key"]])[0][0] >= 2


def test_accounting_rule_per_batch(demo):
    _, target, summary, _ = demo
    bad = read(target, "SELECT _batch_id FROM meta.batches WHERE extracted <> loaded + quarantined")
    assert bad == []
    for stream, meta in summary.streams.items():
        assert meta["extracted"] == meta["loaded"] + meta["quarantined"], stream


def test_registry_recognition_values(demo):
    _, target, _, _ = demo
    values = {v for (v,) in read(target, "SELECT DISTINCT recognition FROM share.license_registry")}
    assert values == {"recognized", "conflict", "single_source"}


def test_level_rollup_adds_up(demo):
    _, target, _, _ = demo
    (region_cases, region_licenses), = read(
        target, "SELECT cases, licenses FROM share.level_rollup WHERE level = 'region'")
    assert region_cases == read(target, "SELECT count(*) FROM core.case WHERE region_code IS NOT NULL")[0][0]
    banner = read(target, "SELECT sum(cases), sum(licenses) FROM share.level_rollup WHERE level = 'banner'")[0]
    assert banner == (region_cases, region_licenses)


def test_rerun_changes_no_row_count(demo, tmp_path):
    sources, target, _, _ = demo
    copy = tmp_path / "again.duckdb"
    shutil.copy(target, copy)
    before = row_counts(str(copy))
    summary = run_all(load_config(sources), str(copy))
    assert summary.success
    assert all(m["extracted"] == 0 for m in summary.streams.values())
    assert row_counts(str(copy)) == before


def test_ten_changed_rows_arrive_once(demo, tmp_path):
    sources, target, _, truth = demo
    defective = {r["key"] for r in truth if r["source"] == "platform.cases"}
    copy = tmp_path / "changed.duckdb"
    shutil.copy(target, copy)
    before = row_counts(str(copy))
    db = Path(load_config(sources).sources["platform"].connection["url"].removeprefix("sqlite:///"))
    src = tmp_path / "platform.sqlite"
    shutil.copy(db, src)
    con = sqlite3.connect(src)
    keys = [k for (k,) in con.execute(
        "SELECT project_no FROM t_case_info WHERE result_code = '1' AND apply_name <> '' ORDER BY project_no")
        if k not in defective][:10]
    con.executemany(
        "UPDATE t_case_info SET apply_name = apply_name || '（更名）', update_time = '2099-01-01 00:00:00'"
        " WHERE project_no = ?", [(k,) for k in keys])
    con.commit()
    con.close()
    text = sources.read_text(encoding="utf-8").replace(str(db), str(src))
    changed_sources = sources.parent / "sources_changed.yaml"  # beside it: relative paths still hold
    changed_sources.write_text(text, encoding="utf-8")
    summary = run_all(load_config(changed_sources), str(copy))
    assert summary.success
    assert summary.streams["platform.cases"]["extracted"] == 10
    assert summary.streams["platform.cases"]["loaded"] == 10
    assert all(m["extracted"] == 0 for s, m in summary.streams.items() if s != "platform.cases")
    after = row_counts(str(copy))
    assert after["core.case"] == before["core.case"]
    assert after["raw.platform__cases"] == before["raw.platform__cases"] + 10
    assert after["meta.batches"] == before["meta.batches"] + 1
    renamed = read(str(copy), "SELECT count(*) FROM core.case WHERE applicant_name LIKE '%更名%'")[0][0]
    assert renamed == 10
    # Only the changed stream's raw rows, its batch and that batch's expectation results are new.
    grown = ("raw.platform__cases", "meta.batches", "quality.check_results", "quality.expectation_results")
    unchanged = {t: n for t, n in after.items() if t not in grown}
    assert unchanged == {t: n for t, n in before.items() if t in unchanged}


def test_broken_rollup_fails_its_check_in_the_dagster_run(demo, tmp_path):
    from pipelines.definitions import CHECKS_JOB, build_definitions
    from pipelines.resources import WarehouseResource

    sources, target, _, _ = demo
    copy = tmp_path / "broken.duckdb"
    shutil.copy(target, copy)
    con = duckdb.connect(str(copy))
    banner = con.execute(
        "SELECT region_code FROM share.level_rollup WHERE level = 'banner' AND NOT own_level AND cases > 0 LIMIT 1"
    ).fetchone()[0]
    con.execute("DELETE FROM share.level_rollup WHERE level = 'banner' AND region_code = $1", [banner])
    con.close()
    defs = build_definitions(load_config(sources), WarehouseResource(target=str(copy)))
    result = defs.resolve_job_def(CHECKS_JOB).execute_in_process(raise_on_error=False)
    assert not result.success
    evaluations = [e.event_specific_data for e in result.all_events
                   if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    rollup = [ev for ev in evaluations if ev.check_name == "levels_add_up"]
    assert rollup and not rollup[0].passed
    assert all(ev.passed for ev in evaluations if ev.check_name == "business_key_unique_not_null")


def test_key_and_accounting_checks_read_only_later_batches_between_full_scans(demo, tmp_path):
    from quality.table_checks import accounting_check, checked_through, key_check

    _, target, _, _ = demo
    copy = tmp_path / "scoped.duckdb"
    shutil.copy(target, copy)
    con = duckdb.connect(str(copy))
    since, full = checked_through(con, "business_key_unique_not_null", "core/case")
    assert since and full  # the run's passing check recorded how far it read
    # A duplicate written by a later batch is found without reading the whole table.
    con.execute("INSERT INTO core.case SELECT * REPLACE ('99990101T000000000000Z-later' AS _batch_id)"
                " FROM core.case LIMIT 1")
    passed, meta = key_check(con, "case", since=since, last_full_scan=full)
    assert not passed and len(meta["duplicate_keys_sample"]) == 1 and meta["scope"].startswith("keys written")
    # A duplicate that no batch wrote (an edit behind the hub's back) waits for the daily full scan.
    con.execute("DELETE FROM core.case WHERE _batch_id = '99990101T000000000000Z-later'")
    con.execute("INSERT INTO core.case SELECT * FROM core.case LIMIT 1")
    assert key_check(con, "case", since=since, last_full_scan=full)[0]
    passed, meta = key_check(con, "case")
    assert not passed and meta["scope"] == "whole table"
    con.execute("UPDATE quality.check_results SET metadata = json_object('checked_through_batch', $1,"
                " 'last_full_scan', '2000-01-01T00:00:00') WHERE check_name = 'business_key_unique_not_null'"
                " AND asset = 'core/case'", [since])
    assert checked_through(con, "business_key_unique_not_null", "core/case") == (None, None)
    # Accounting: a later batch that does not balance is found.
    source = "platform.cases"
    since, full = checked_through(con, "rows_accounted_for", "raw/platform/cases")
    assert since
    con.execute("INSERT INTO meta.batches SELECT * REPLACE ('99990101T000000000000Z-later' AS _batch_id,"
                " extracted + 1 AS extracted) FROM meta.batches WHERE _source = $1 LIMIT 1", [source])
    passed, meta = accounting_check(con, source, "raw.platform__cases", since=since, last_full_scan=full)
    assert not passed and [b["batch"] for b in meta["unbalanced_batches"]] == ["99990101T000000000000Z-later"]
    con.close()


def test_many_small_chunks_load_exactly_what_one_chunk_does(demo, tmp_path, monkeypatch):
    """Landing and staging go chunk by chunk; chunks of 500 rows (duplicate keys, defects and
    whole-table streams spread over several) must give the same warehouse as the module's run."""
    import warehouse.loading

    sources, target, _, truth = demo
    monkeypatch.setattr(warehouse.loading, "LAND_ROWS", 500)
    chunked = str(tmp_path / "chunked.duckdb")
    summary = run_all(load_config(sources), chunked)
    assert summary.success, summary.failures + summary.failed_checks
    for sql in (
        "SELECT _source, _source_key, reason, detail FROM quality.quarantine",
        "SELECT finding, entity, key, fields FROM quality.recognition",
        "SELECT * EXCLUDE (_batch_id, _loaded_at) FROM core.case",
        "SELECT * EXCLUDE (_batch_id, _loaded_at) FROM core.license",
        "SELECT _source, count(*), sum(extracted), sum(loaded), sum(quarantined) FROM meta.batches GROUP BY 1",
    ):
        assert sorted(read(chunked, sql), key=repr) == sorted(read(target, sql), key=repr), sql
    assert {c for (c,) in read(chunked, "SELECT DISTINCT _row_no > 500 FROM raw.platform__cases")} == {True, False}
