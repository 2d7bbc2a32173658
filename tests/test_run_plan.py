"""`hub run` materialises only the streams with something new (pipelines/run_plan.py).

One small demo (real SQLite sources and a GB18030 exchange folder) is loaded once; each test works
on its own copy of the warehouse and, where it changes a source, on its own copy of the sources.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main as hub
from pipelines.config import load_config
from pipelines.demo_data import generate_demo
from pipelines.run_plan import ALL, CHANGED, plan_run
from pipelines.runner import run, run_all

STREAMS = {
    "platform.cases", "platform.evaluations", "platform.licenses", "platform.pushes", "zhujian.licenses",
    "amr.licenses", "exchange.departments", "exchange.matters", "exchange.feedback",
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan")
    sources = generate_demo(folder / "sources", scale=1000)
    target = folder / "warehouse.duckdb"
    summary = run_all(load_config(sources), str(target))
    assert summary.success, summary.failures + summary.failed_checks
    return sources, target


@pytest.fixture
def copy(loaded, tmp_path):
    """The demo's sources folder and warehouse, copied: a test may change either."""
    sources, target = loaded
    shutil.copytree(sources.parent, tmp_path / "sources")
    shutil.copy(target, tmp_path / "warehouse.duckdb")
    moved = tmp_path / "sources" / sources.name
    moved.write_text(sources.read_text(encoding="utf-8").replace(str(sources.parent), str(tmp_path / "sources")),
                     encoding="utf-8")
    return moved, tmp_path / "warehouse.duckdb"


def query(target: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(target))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@contextmanager
def held_by_another_process(target: Path):
    """A run in progress: another process holds the warehouse file open for writing."""
    writer = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(target)!r}); print('open', flush=True);"
         " time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        yield
    finally:
        writer.kill()
        writer.wait()


def row_counts(target: Path) -> dict[str, int]:
    tables = query(target, "SELECT schema_name || '.' || table_name FROM duckdb_tables() ORDER BY 1")
    return {t: query(target, f"SELECT count(*) FROM {t}")[0][0] for (t,) in tables}


def test_the_first_run_ran_everything_and_is_recorded(loaded):
    _, target = loaded
    (scope, success, finished), = query(target, "SELECT scope, success, finished_at FROM meta.last_run")
    assert (scope, success) == (ALL, True) and finished is not None


def test_nothing_new_runs_nothing(copy):
    sources, target = copy
    before = row_counts(target)
    last = query(target, "SELECT run_id FROM meta.last_run")
    plan = plan_run(load_config(sources), str(target))
    # The copy gave every file a new inode change time: listed as unknown, hashed, found loaded.
    assert plan.scope == CHANGED
    summary = run(sources, str(target))
    assert summary.success
    assert all(m["extracted"] == 0 for m in summary.streams.values())
    plan = plan_run(load_config(sources), str(target))
    assert (plan.scope, plan.streams) == (CHANGED, ())
    summary = run(sources, str(target))
    assert summary.success and summary.streams == {} and set(summary.not_run) == STREAMS
    assert summary.work_seconds == 0  # no Dagster run at all
    after = row_counts(target)
    assert {t: n for t, n in after.items() if t != "meta.last_run"} == {
        t: n for t, n in before.items() if t != "meta.last_run"}
    assert after["meta.last_run"] == 1
    assert query(target, "SELECT run_id FROM meta.last_run") != last  # the run that hashed the files


def test_new_source_rows_run_their_stream_and_what_depends_on_it(copy):
    sources, target = copy
    run(sources, str(target))  # settles the copied files' ledger (see above)
    db = Path(load_config(sources).sources["platform"].connection["url"].removeprefix("sqlite:///"))
    con = sqlite3.connect(db)
    con.execute("UPDATE t_case_info SET apply_name = apply_name || '（更名）', update_time = '2099-01-01 00:00:00'"
                " WHERE project_no IN (SELECT project_no FROM t_case_info ORDER BY project_no LIMIT 5)")
    con.commit()
    con.close()
    plan = plan_run(load_config(sources), str(target))
    assert (plan.scope, plan.streams) == (CHANGED, ("platform.cases",))
    summary = run(sources, str(target))
    assert summary.success, summary.failures + summary.failed_checks
    assert set(summary.streams) == {"platform.cases"} and summary.streams["platform.cases"]["extracted"] == 5
    assert set(summary.not_run) == STREAMS - {"platform.cases"}
    # Downstream of the cases ran (core.case, its key check, the share views on cases), nothing else.
    assert set(summary.core) == {"case"}
    assert query(target, "SELECT count(*) FROM core.case WHERE applicant_name LIKE '%更名%'")[0][0] == 5
    checked = dict(query(target, "SELECT asset, run_id FROM quality.check_results"
                                 " WHERE check_name = 'business_key_unique_not_null'"))
    assert checked["core/case"] == summary_run_id(target)
    assert checked["core/license"] != summary_run_id(target)


def summary_run_id(target: Path) -> str:
    return query(target, "SELECT run_id FROM meta.last_run")[0][0]


def test_a_new_file_runs_its_stream_only(copy):
    sources, target = copy
    run(sources, str(target))
    folder = sources.parent / "exchange"
    template = sorted(folder.glob("feedback_*"))[0]
    shutil.copy(template, folder / template.name.replace(template.stem, template.stem + "_extra"))
    plan = plan_run(load_config(sources), str(target))
    assert (plan.scope, plan.streams) == (CHANGED, ("exchange.feedback",))


@pytest.mark.parametrize("state, reason", [
    ("UPDATE meta.last_run SET success = false", "failed"),
    ("UPDATE meta.last_run SET success = NULL, finished_at = NULL", "did not finish"),
    ("UPDATE meta.last_run SET started_at = started_at - INTERVAL 1 DAY", "first run of the day"),
    ("UPDATE meta.last_run SET hub_version = '0.0.1'", "upgraded"),
    ("DROP TABLE meta.last_run", "no earlier run"),
])
def test_everything_runs_when_that_is_the_safe_answer(copy, state, reason):
    sources, target = copy
    query(target, state)
    plan = plan_run(load_config(sources), str(target))
    assert plan.scope == ALL and reason in plan.reason
    assert set(plan.streams) == STREAMS


def test_a_changed_declaration_reruns_its_stream(copy):
    sources, target = copy
    run(sources, str(target))
    text = sources.read_text(encoding="utf-8")
    assert "    label: 一体化在线政务服务平台\n" in text
    sources.write_text(text.replace("    label: 一体化在线政务服务平台\n", "    label: 一体化平台（更名）\n", 1),
                       encoding="utf-8")
    plan = plan_run(load_config(sources), str(target))
    assert plan.scope == CHANGED
    assert set(plan.streams) == {s for s in STREAMS if s.startswith("platform.")}


def test_hub_run_all_runs_every_stream(copy, capsys):
    sources, target = copy
    run(sources, str(target))
    assert hub(["run", "--sources", str(sources), "--warehouse", str(target)]) == 0
    out = capsys.readouterr().out
    assert "run: changed" in out and "(nothing new: not run)" in out
    assert hub(["run", "--all", "--sources", str(sources), "--warehouse", str(target)]) == 0
    out = capsys.readouterr().out
    assert "run: all — every asset asked for (--all)" in out and "not run" not in out


def test_a_run_opens_the_warehouse_once(copy, monkeypatch):
    """`hub run` records its start, runs its steps and records its end on one connection: no
    step opens the warehouse again (each opening reads the catalogue, each close checkpoints).
    (The plan's read-only look before the run is not counted.)"""
    import pipelines.resources
    import pipelines.run_plan
    from warehouse import connection

    opened, real_connect = [], connection.connect

    def counting(target, **kw):
        if not kw.get("read_only"):
            opened.append(str(target))
        return real_connect(target, **kw)

    for module in (pipelines.resources, pipelines.run_plan, connection):
        monkeypatch.setattr(module, "connect", counting)
    sources, target = copy
    summary = run(sources, str(target), everything=True)
    assert summary.success, summary.failures
    assert opened == [str(target)]
    (success,), = query(target, "SELECT success FROM meta.last_run")
    assert success is True


def test_an_interrupted_run_leaves_success_empty(copy):
    """begin_run records the run before Dagster starts; only the end of the run fills success."""
    from pipelines.run_plan import begin_run
    from warehouse.connection import connect

    sources, target = copy
    plan = plan_run(load_config(sources), str(target), everything=True)
    con = connect(target)
    begin_run(con, plan)  # … and the process is killed here
    con.close()
    (success, finished), = query(target, "SELECT success, finished_at FROM meta.last_run")
    assert success is None and finished is None
    assert "did not finish" in plan_run(load_config(sources), str(target)).reason


# --- the hourly schedule asks for what `hub run` would run --------------------------------------


def _tick(sources: Path, target: Path, instance):
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.resources import WarehouseResource

    warehouse = WarehouseResource(target=str(target))
    defs = build_definitions(load_config(sources), warehouse)
    with dg.build_schedule_context(instance=instance, resources={"warehouse": warehouse}) as context:
        return defs, defs.resolve_schedule_def("hub_hourly").evaluate_tick(context)


def test_hourly_schedule_requests_only_what_changed(copy):
    import dagster as dg

    from pipelines.definitions import ALL_JOB
    from pipelines.run_plan import hub_version
    from pipelines.schedules import VERSION_TAG, last_job_run

    sources, target = copy
    run(sources, str(target))  # settles the copied files' ledger
    with dg.instance_for_test() as instance:
        defs, tick = _tick(sources, target, instance)
        (request,) = tick.run_requests  # no run of the job yet: every asset
        assert request.asset_selection is None and request.tags["hub/scope"] == ALL

        result = defs.resolve_job_def(ALL_JOB).execute_in_process(instance=instance, tags=request.tags)
        assert result.success
        last = last_job_run(instance, ALL_JOB)
        assert last.success is True and last.version == hub_version()

        _, tick = _tick(sources, target, instance)
        assert not tick.run_requests and "nothing new" in tick.skip_message

        folder = sources.parent / "exchange"
        template = sorted(folder.glob("feedback_*"))[0]
        shutil.copy(template, folder / template.name.replace(template.stem, template.stem + "_extra"))
        _, tick = _tick(sources, target, instance)
        (request,) = tick.run_requests
        chosen = {key.to_user_string() for key in request.asset_selection}
        assert {"raw/exchange/feedback", "core/feedback", "quality/report"} <= chosen
        assert not chosen & {"raw/platform/cases", "core/case", "raw/exchange/matters"}
        assert request.tags[VERSION_TAG] == hub_version()


def test_hourly_schedule_skips_while_a_run_writes_the_warehouse(copy):
    import dagster as dg

    sources, target = copy
    with held_by_another_process(target), dg.instance_for_test() as instance:
        _, tick = _tick(sources, target, instance)
    assert not tick.run_requests and "busy" in tick.skip_message


def test_hub_run_names_the_warehouse_another_run_holds(copy, capsys, monkeypatch):
    import functools

    import pipelines.runner

    sources, target = copy
    monkeypatch.setattr(pipelines.runner, "plan_run", functools.partial(plan_run, wait_seconds=0.5))
    with held_by_another_process(target):
        assert hub(["run", "--sources", str(sources), "--warehouse", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: warehouse {target}: cannot open") and "lock" in err


def test_a_source_found_unreachable_counts_as_new_without_a_second_probe(copy):
    sources, target = copy
    run(sources, str(target))
    plan = plan_run(load_config(sources), str(target), unreachable={"zhujian"})
    assert (plan.scope, plan.streams) == (CHANGED, ("zhujian.licenses",))


def test_hub_run_plan_prints_the_plan_and_writes_nothing(copy, capsys):
    sources, target = copy
    run(sources, str(target))
    folder = sources.parent / "exchange"
    template = sorted(folder.glob("matters_*"))[0]
    shutil.copy(template, folder / template.name.replace(template.stem, template.stem + "_extra"))
    before = row_counts(target)
    last = query(target, "SELECT * FROM meta.last_run")
    capsys.readouterr()
    assert hub(["run", "--plan", "--sources", str(sources), "--warehouse", str(target)]) == 0
    out = capsys.readouterr().out
    assert "run: changed" in out
    assert any(line.startswith("exchange.matters") and line.endswith("would run") for line in out.splitlines())
    assert any(line.startswith("platform.cases") and "would not run" in line for line in out.splitlines())
    assert row_counts(target) == before and query(target, "SELECT * FROM meta.last_run") == last


def test_each_finding_reads_the_core_entities_its_sql_names():
    from quality.recognition import FINDING_INPUTS

    assert FINDING_INPUTS == {
        "conflict": {"license"},
        "duplicate_issuance": {"license", "department", "matter"},
        "orphan_license": {"license", "case"},
        "standard_deviation": {"matter"},
        "unknown_holder_license": {"feedback", "license"},
    }


def test_recognition_recomputes_the_findings_whose_tables_a_batch_wrote(copy):
    from quality.recognition import FINDINGS_SQL, refresh_recognition
    from warehouse.connection import connect

    _sources, target = copy
    con = connect(str(target))
    try:
        def findings() -> list[tuple]:
            return con.execute("SELECT finding, entity, key, fields, sources, detail FROM quality.recognition"
                               " ORDER BY ALL").fetchall()

        later = iter(range(1, 10))

        def case_batch() -> None:  # a batch of cases after the refresh mark (ids sort in time)
            con.execute("INSERT INTO meta.batches SELECT * REPLACE ($1 AS _batch_id) FROM meta.batches"
                        " WHERE _source = 'platform.cases' LIMIT 1", [f"9999010{next(later)}T000000000000Z-test"])

        assert refresh_recognition(con)[1] == []  # nothing written since the run's own refresh
        # A licence whose case is rejected now: only orphan_license reads core.case.
        licence, case_no = con.execute(
            "SELECT l.license_no, l.case_no FROM core.license l JOIN core.case c USING (case_no)"
            " WHERE c.decision = 'approved' ORDER BY 1 LIMIT 1").fetchone()
        con.execute("UPDATE core.case SET decision = 'rejected' WHERE case_no = $1", [case_no])
        case_batch()
        counts, recomputed = refresh_recognition(con)
        assert recomputed == ["orphan_license"]
        assert ("orphan_license", "license", licence) in [f[:3] for f in findings()]
        scoped = findings()
        # The same findings as recomputing every one of them (no mark: everything).
        con.execute("DELETE FROM meta.refresh_marks")
        assert refresh_recognition(con) == (counts, list(FINDINGS_SQL))
        assert findings() == scoped
        # Scoped refreshes keep the time of the last full one; a day after it, everything again.
        case_batch()
        full = con.execute("SELECT full_refresh_at FROM meta.refresh_marks").fetchone()[0]
        assert refresh_recognition(con)[1] == ["orphan_license"]
        assert con.execute("SELECT full_refresh_at FROM meta.refresh_marks").fetchone()[0] == full
        con.execute("UPDATE meta.refresh_marks SET full_refresh_at = full_refresh_at - INTERVAL 25 HOUR")
        assert refresh_recognition(con)[1] == list(FINDINGS_SQL)
        # Findings written by another version of their SQL: everything again.
        case_batch()
        con.execute("UPDATE meta.refresh_marks SET definition_sha = 'an older version'")
        assert refresh_recognition(con)[1] == list(FINDINGS_SQL)
    finally:
        con.close()
