"""Extraction benchmark: the hub against the wire limit and against what people write by hand.

    .venv/bin/python bench/extract.py --rows 1000000 [--pg postgresql://postgres@127.0.0.1:5432/test]

Creates an N-row case table in the live PostgreSQL (generated in SQL, valid codes drawn from a
small demo's reference data), then measures, each method in its own process on the same table:

  copy_binary      COPY … TO STDOUT (FORMAT binary) to /dev/null: the wire limit
  pandas_read_sql  pandas.read_sql through SQLAlchemy (chunks, stream_results) inserted into DuckDB
  dlt_fast         dlt's sql_database source into duckdb, fastest backend here (connectorx / pyarrow)
  hub_full         `hub run` of that source into core.case, with normalisation and quality
  hub_incremental  `hub run` again after 1 % of the rows changed
  hub_full_odbc    the same source declared as `odbc` (psqlODBC)
  hub_help         `hub --help`;   hub_empty_run   `hub run` with nothing new
  with --pg-warehouse, also:
  hub_full_pgwarehouse         hub_full into a PostgreSQL warehouse (HUB_WAREHOUSE=postgresql://…):
                               the DuckDB work plus the publication of raw and core to PostgreSQL
  hub_incremental_pgwarehouse  the same after another 1 % of the rows changed

For each: work_seconds (first connection to last commit, imports excluded), process_seconds (the
whole process, as a user waits for it), rows_per_s and peak_rss_mb. Prints one line per method and
writes bench/results.json. A method whose tools are missing is reported as skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work"
TABLE = "bench_case"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"

CASE_COLUMNS = (
    "project_no, task_code, apply_name, apply_type, apply_cardnumber, handle_dept_code, area_code, channel_code,"
    " receive_time, result_time, result_code, promise_day, update_time"
)


# --------------------------------------------------------------------------- the source table


def _reference(demo_dir: Path) -> dict:
    """Valid matter, department, region and party codes from a small demo's reference data."""
    import csv

    from pipelines.demo_data import generate_demo

    generate_demo(demo_dir, scale=2000)  # also the source of write_sources' stream declarations
    with (demo_dir / "exchange" / "matters_20240101.csv").open(encoding="gb18030") as fh:
        matters = [(r["事项编码"], r["实施区划"]) for r in csv.DictReader(fh)]
    with (demo_dir / "exchange" / "departments_20240101.csv").open(encoding="gb18030") as fh:
        depts = [(r["统一社会信用代码"], r["行政区划代码"]) for r in csv.DictReader(fh)]
    import sqlite3

    con = sqlite3.connect(demo_dir / "platform.sqlite")
    truth = _truth(demo_dir)
    defective = {r["key"] for r in truth if r["source"] == "platform.cases"}
    bad_depts = {r["key"] for r in truth if r["source"] == "exchange.departments"}
    bad_matters = {r["key"] for r in truth if r["source"] == "exchange.matters"}
    depts = [(c, r) for c, r in depts if c not in bad_depts]
    matters = [(m, r) for m, r in matters if f"{m}|{r}" not in bad_matters and m not in bad_matters]
    parties = [
        (code, kind, name)
        for no, code, kind, name in con.execute(
            "SELECT project_no, apply_cardnumber, apply_type, apply_name FROM t_case_info LIMIT 4000"
        )
        if no not in defective
    ]
    con.close()
    # Matters and departments of the catalogue that carry no defect of their own.
    return {"matters": matters, "depts": depts, "parties": parties}


def create_table(pg: str, rows: int, ref: dict) -> None:
    """The N-row case table, generated inside PostgreSQL from small arrays of valid codes."""
    import psycopg

    parties = ref["parties"]
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute(f"DROP TABLE IF EXISTS {TABLE}")
        con.execute(
            f"""CREATE TABLE {TABLE} (project_no text PRIMARY KEY, task_code text, apply_name text,
                apply_type text, apply_cardnumber text, handle_dept_code text, area_code char(6),
                channel_code text, receive_time timestamp, result_time timestamp, result_code text,
                promise_day integer, update_time timestamptz)"""
        )
        con.execute(
            f"""INSERT INTO {TABLE}
            SELECT '1501' || lpad(g::text, 14, '0'),
                   (%(m)s::text[])[1 + g %% cardinality(%(m)s::text[])],
                   (%(pn)s::text[])[1 + g %% cardinality(%(pn)s::text[])],
                   (%(pt)s::text[])[1 + g %% cardinality(%(pt)s::text[])],
                   (%(pc)s::text[])[1 + g %% cardinality(%(pc)s::text[])],
                   (%(d)s::text[])[1 + g %% cardinality(%(d)s::text[])],
                   (%(r)s::text[])[1 + g %% cardinality(%(r)s::text[])],
                   (1 + g %% 4)::text,
                   TIMESTAMP '2023-01-02 08:30:00' + (g %% 600) * INTERVAL '1 day' + (g %% 480) * INTERVAL '1 minute',
                   TIMESTAMP '2023-01-02 08:30:00' + (g %% 600 + 1 + g %% 9) * INTERVAL '1 day',
                   (1 + g %% 3)::text,
                   5 + g %% 15,
                   TIMESTAMPTZ '2024-06-01 00:00:00+08' + g * INTERVAL '1 second'
            FROM generate_series(1, %(n)s) AS g""",
            {
                "m": [m for m, _ in ref["matters"]],
                "pn": [p[2] for p in parties], "pt": [p[1] for p in parties], "pc": [p[0] for p in parties],
                "d": [d for d, _ in ref["depts"]],
                "r": sorted({r for _, r in ref["depts"] if r}),
                "n": rows,
            },
        )
        con.execute(f"CREATE INDEX ON {TABLE} (update_time)")
        con.execute(f"ANALYZE {TABLE}")


def _truth(demo_dir: Path) -> list[dict]:
    import csv

    with (demo_dir / "truth.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_sources(path: Path, kind: str, pg: str, *, with_cases: bool = True) -> Path:
    """sources.yaml: the demo's exchange folder (reference data) plus the demo platform's case
    stream pointed at the PostgreSQL table, declared as `sql` or as `odbc`."""
    import yaml
    from sqlalchemy.engine import make_url

    demo = yaml.safe_load((WORK / "demo" / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    exchange = demo["exchange"]
    exchange["connection"]["path"] = str(WORK / "demo" / "exchange")
    cases = dict(demo["platform"]["streams"]["cases"], table=TABLE)
    if kind == "sql":
        connection = {"kind": "sql", "url": pg}
    else:
        u = make_url(pg)
        connection = {"kind": "odbc", "connection_string": (
            f"Driver={{PostgreSQL Unicode}};Server={u.host};Port={u.port or 5432};Database={u.database};"
            f"Uid={u.username};")}
    bench = {"department": demo["platform"]["department"], "label": "一体化平台办件库（基准测试）",
             "connection": connection, "streams": {"cases": cases}}
    sources = {"bench": bench, "exchange": exchange} if with_cases else {"exchange": exchange}
    path.write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the methods (children)


def child_copy_binary(pg: str, out: Path) -> int:
    import psycopg

    t0 = time.perf_counter()
    n = 0
    with psycopg.connect(pg) as con, con.cursor() as cur:
        with cur.copy(f"COPY (SELECT {CASE_COLUMNS} FROM {TABLE}) TO STDOUT (FORMAT binary)") as copy:
            with open(os.devnull, "wb") as sink:
                for block in copy:
                    sink.write(block)
        n = cur.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
    _report(t0, n)
    return 0


def child_pandas_read_sql(pg: str, out: Path) -> int:
    import duckdb
    import pandas as pd
    import sqlalchemy as sa

    out.unlink(missing_ok=True)  # a fresh table in every round
    t0 = time.perf_counter()
    engine = sa.create_engine(pg.replace("postgresql://", "postgresql+psycopg://"))
    db = duckdb.connect(str(out))
    n = 0
    with engine.connect().execution_options(stream_results=True) as conn:
        for chunk in pd.read_sql(sa.text(f"SELECT {CASE_COLUMNS} FROM {TABLE}"), conn, chunksize=100_000):
            if n == 0:
                db.execute("CREATE TABLE cases AS SELECT * FROM chunk")
            else:
                db.execute("INSERT INTO cases SELECT * FROM chunk")
            n += len(chunk)
    db.close()
    _report(t0, n)
    return 0


def child_dlt_fast(pg: str, out: Path) -> int:
    try:
        import dlt
        from dlt.sources.sql_database import sql_table
    except ImportError:
        print(json.dumps({"skipped": "dlt is not installed (pip install 'dlt[duckdb,sql-database]' connectorx)"}))
        return 0
    try:
        import connectorx  # noqa: F401

        backend = "connectorx"
    except ImportError:
        backend = "pyarrow"
    os.environ["DLT_DATA_DIR"] = str(out.parent / "dlt_data")
    os.environ["DLT_PIPELINE_DIR"] = str(out.parent / "dlt_pipelines")
    # A fresh destination and pipeline state in every round (else a second round appends).
    out.unlink(missing_ok=True)
    shutil.rmtree(out.parent / "dlt_pipelines", ignore_errors=True)
    t0 = time.perf_counter()
    table = sql_table(credentials=pg.replace("postgresql://", "postgresql+psycopg://") if backend == "pyarrow"
                      else pg, table=TABLE, backend=backend, chunk_size=100_000)
    pipeline = dlt.pipeline(pipeline_name="bench", destination=dlt.destinations.duckdb(str(out)),
                            dataset_name="bench")
    info = pipeline.run(table)
    n = pipeline.last_trace.last_normalize_info.row_counts.get(TABLE, 0) if pipeline.last_trace else 0
    _report(t0, n, backend=backend, loads=len(info.loads_ids))
    return 0


def child_hub(sources: Path, warehouse: str) -> int:
    # Import cost stays outside the work time (it is in process_seconds): Dagster, Great
    # Expectations (imported lazily by the first batch otherwise) and the Arrow drivers.
    import adbc_driver_postgresql.dbapi  # noqa: F401
    import pyarrow.dataset  # noqa: F401

    import quality.gx_duckdb  # noqa: F401
    from pipelines.definitions import build_definitions  # noqa: F401
    from pipelines.runner import run

    # What `hub run` does: check the sources file, plan the run (only streams with something new
    # and what depends on them, pipelines/run_plan.py), run it.
    summary = run(sources, warehouse)
    meta = summary.streams.get("bench.cases", {})
    # Work: from the first step (the first source connection) to the last step's last commit, as
    # Dagster timed them; the run set-up (instance, plan) is in process_seconds.
    print(json.dumps({"work_seconds": summary.work_seconds, "rows": meta.get("extracted", 0),
                      "loaded": meta.get("loaded"), "quarantined": meta.get("quarantined"),
                      "run_seconds": summary.seconds, "success": summary.success,
                      "published_seconds": summary.published.get("seconds"),
                      "failures": summary.failures[:3], "seconds_per_step": meta.get("seconds_per_step"),
                      "seconds_per_dagster_step": summary.step_seconds}))
    return 0 if summary.success else 1


def _report(t0: float, rows: int, **extra) -> None:
    print(json.dumps({"work_seconds": time.perf_counter() - t0, "rows": rows, **extra}, ensure_ascii=False))


# --------------------------------------------------------------------------- the parent


def measure(method: str, argv: list[str], *, cwd: Path = ROOT) -> dict:
    """Run one child process; wall time and peak RSS from the OS, work time from the child."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    process_seconds = time.perf_counter() - started
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    child = json.loads(lines[-1]) if lines else {}
    result = {
        "process_seconds": round(process_seconds, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit_code": proc.returncode,
    }
    if "skipped" in child:
        return {"skipped": child["skipped"]}
    if "work_seconds" in child:
        result["work_seconds"] = round(child["work_seconds"], 3)
        rows = child.get("rows") or 0
        result["rows"] = rows
        result["rows_per_s"] = round(rows / child["work_seconds"]) if child["work_seconds"] and rows else None
        for key in ("loaded", "quarantined", "backend", "success", "failures", "run_seconds", "seconds_per_step",
                    "seconds_per_dagster_step", "published_seconds"):
            if key in child:
                result[key] = child[key]
    if proc.returncode != 0:
        result["error"] = (err or out).strip().splitlines()[-5:]
    return result


def fresh_pg_warehouse(pg: str) -> str:
    """A new, empty database `hub_bench_warehouse` on the benchmark's server, as a warehouse URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(pg, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS hub_bench_warehouse WITH (FORCE)")
        con.execute("CREATE DATABASE hub_bench_warehouse")
    shutil.rmtree(WORK / "pg_working_copies", ignore_errors=True)
    return make_url(pg).set(database="hub_bench_warehouse").render_as_string(hide_password=False)


def change_one_percent(pg: str, rows: int) -> int:
    import psycopg

    with psycopg.connect(pg, autocommit=True) as con:
        cur = con.execute(
            f"UPDATE {TABLE} SET apply_name = apply_name || '（变更）', update_time = now()"
            f" WHERE project_no IN (SELECT project_no FROM {TABLE} ORDER BY project_no"
            f" LIMIT {max(1, rows // 100)})"
        )
        return cur.rowcount


def _line(method: str, r: dict) -> str:
    if "skipped" in r:
        return f"{method:<16} skipped: {r['skipped']}"
    work = f"{r['work_seconds']:8.2f}" if "work_seconds" in r else "       -"
    rate = f"{r['rows_per_s']:>10,}" if r.get("rows_per_s") else "         -"
    spread = ""
    if len(r.get("work_seconds_runs", [])) > 1:
        spread = f"   (runs {', '.join(f'{w:.2f}' for w in r['work_seconds_runs'])})"
    return (f"{method:<16} work {work} s   process {r['process_seconds']:8.2f} s   {rate} rows/s"
            f"   peak {r['peak_rss_mb']:8.1f} MB" + (f"   ERROR {r.get('error')}" if r.get("exit_code") else "") + spread)


def _median_run(rs: list[dict]) -> dict:
    """The run with the median work time (the lower middle of an even count), with every run's
    work time beside it; a skipped method stays skipped."""
    timed = [r for r in rs if "work_seconds" in r]
    if not timed:
        return rs[-1]
    ordered = sorted(timed, key=lambda r: r["work_seconds"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    if len(rs) > 1:
        chosen["work_seconds_runs"] = [r["work_seconds"] for r in timed]
        chosen["peak_rss_mb_max"] = max(r["peak_rss_mb"] for r in rs)
    return chosen


# The bars ("Done when"), on work_seconds: (label, numerator, denominator, limit, at most).
BARS = (
    ("hub_full ≤ 5 × copy_binary", "hub_full", "copy_binary", 5.0, True),
    ("pandas_read_sql ≥ 1.5 × hub_full", "pandas_read_sql", "hub_full", 1.5, False),
    ("hub_full ≤ 1.25 × dlt_fast", "hub_full", "dlt_fast", 1.25, True),
    ("hub_incremental ≤ 10 % of hub_full", "hub_incremental", "hub_full", 0.10, True),
    ("hub_full_odbc ≤ 3 × hub_full", "hub_full_odbc", "hub_full", 3.0, True),
)
RSS_LIMIT_MB = 1536


def bars(results: dict) -> list[str]:
    """One line per bar the results allow to judge: the ratio, and whether it holds.

    With several rounds the ratio is the median of the rounds' own ratios (both methods measured
    minutes apart, so a drift of the machine touches both), each round's beside it; the ratio of
    two medians could pair a fast moment of one method with a slow one of the other."""
    lines = []
    for label, a, b, limit, at_most in BARS:
        ra, rb = results.get(a, {}), results.get(b, {})
        if "work_seconds" not in ra or "work_seconds" not in rb or not rb["work_seconds"]:
            continue
        per_round = [x / y for x, y in zip(ra.get("work_seconds_runs", []), rb.get("work_seconds_runs", [])) if y]
        if len(per_round) > 1 and len(per_round) == len(ra["work_seconds_runs"]) == len(rb["work_seconds_runs"]):
            ratio = statistics.median(per_round)
            rounds = f"   (rounds {', '.join(f'{r:.2f}' for r in per_round)})"
        else:
            ratio, rounds = ra["work_seconds"] / rb["work_seconds"], ""
        ok = ratio <= limit if at_most else ratio >= limit
        lines.append(f"  {label:<38} {ratio:6.2f}   {'met' if ok else 'NOT met'}{rounds}")
    hub = {m: r for m, r in results.items() if m.startswith("hub_") and "peak_rss_mb" in r}
    if hub:
        peak = max(r.get("peak_rss_mb_max", r["peak_rss_mb"]) for r in hub.values())
        lines.append(f"  {'every hub method peak RSS ≤ 1.5 GiB':<38} {peak:6.0f} MB {'met' if peak <= RSS_LIMIT_MB else 'NOT met'}")
    return ["bars (work_seconds):", *lines] if lines else []


def where_the_time_went(method: str, r: dict) -> list[str]:
    """A hub run's work by Dagster step (start to end, in run order), the stream steps with their
    own phases, as the child reported them (those of bench.cases, the stream the benchmark loads):
    what an incremental run's fixed costs are made of."""
    steps = r.get("seconds_per_dagster_step") or {}
    if not steps or "work_seconds" not in r:
        return []
    phases = r.get("seconds_per_step") or {}
    parts = []
    for step, seconds in steps.items():
        detail = ""
        if step == "raw__bench__cases" and phases:
            detail = " (" + ", ".join(f"{k} {v:.3f}" for k, v in phases.items()) + ")"
        parts.append(f"    {step:<46} {seconds:6.3f} s{detail}")
    between = r["work_seconds"] - sum(steps.values())
    return [f"{method}, where the {r['work_seconds']:.2f} s of work went ({len(steps)} Dagster steps; run order):",
            *parts, f"    {'between steps':<46} {between:6.3f} s"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", PG_DEFAULT))
    parser.add_argument("--only", help="comma-separated methods to run")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every method, interleaved; results.json keeps each method's median run"
                             " (this machine's speed drifts by a third within minutes)")
    parser.add_argument("--pg-warehouse", action="store_true",
                        help="also measure hub_full and hub_incremental into a PostgreSQL warehouse (a database"
                             " hub_bench_warehouse on the --pg server, dropped and created afresh)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--sources", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child:
        out = Path(args.out)
        if args.child == "hub":
            return child_hub(Path(args.sources), args.out)  # a DuckDB file or a postgresql:// URL
        return globals()[f"child_{args.child}"](args.pg, out)

    only = set(args.only.split(",")) if args.only else None
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    print(f"preparing {args.rows:,} rows in {TABLE} …", flush=True)
    ref = _reference(WORK / "demo")
    t0 = time.perf_counter()
    create_table(args.pg, args.rows, ref)
    print(f"  table created in {time.perf_counter() - t0:.1f} s", flush=True)

    py = sys.executable
    hub = str(Path(py).with_name("hub"))
    me = str(Path(__file__).resolve())
    sql_sources = write_sources(WORK / "sources_sql.yaml", "sql", args.pg)
    odbc_sources = write_sources(WORK / "sources_odbc.yaml", "odbc", args.pg)
    # The reference data (departments, matters) is loaded once beforehand: hub_full times the cases.
    reference_wh = WORK / "reference.duckdb"
    ref_sources = write_sources(WORK / "sources_reference.yaml", "sql", args.pg, with_cases=False)
    subprocess.run([py, "-m", "pipelines.cli", "run", "--sources", str(ref_sources), "--warehouse",
                    str(reference_wh)], cwd=ROOT, check=True, capture_output=True)

    def fresh(name: str) -> Path:
        target = WORK / f"{name}.duckdb"
        shutil.copy(reference_wh, target)
        return target

    plan = [
        ("copy_binary", lambda: [py, me, "--child", "copy_binary", "--pg", args.pg, "--out", str(WORK / "x")]),
        ("pandas_read_sql", lambda: [py, me, "--child", "pandas_read_sql", "--pg", args.pg, "--out",
                                     str(WORK / "pandas.duckdb")]),
        ("dlt_fast", lambda: [py, me, "--child", "dlt_fast", "--pg", args.pg, "--out", str(WORK / "dlt.duckdb")]),
        ("hub_full", lambda: [py, me, "--child", "hub", "--sources", str(sql_sources), "--out", str(fresh("hub"))]),
        ("hub_incremental", None),
        ("hub_full_odbc", lambda: [py, me, "--child", "hub", "--sources", str(odbc_sources), "--out",
                                   str(fresh("hub_odbc"))]),
        ("hub_help", lambda: [hub, "--help"]),
        ("hub_empty_run", lambda: [hub, "run", "--sources", str(sql_sources), "--warehouse",
                                   str(WORK / "hub.duckdb")]),
    ]
    if args.pg_warehouse:
        pg_target = fresh_pg_warehouse(args.pg)
        os.environ["HUB_WAREHOUSE_CACHE"] = str(WORK / "pg_working_copies")
        plan += [
            ("hub_full_pgwarehouse", lambda: [py, me, "--child", "hub", "--sources", str(sql_sources), "--out",
                                              pg_target]),
            ("hub_incremental_pgwarehouse", None),
        ]
    runs: dict[str, list[dict]] = {}
    for round_no in range(1, args.repeat + 1):
        if args.repeat > 1:
            print(f"round {round_no} of {args.repeat}", flush=True)
        for method, argv in plan:
            if only and method not in only:
                continue
            if method in ("hub_incremental", "hub_incremental_pgwarehouse"):
                target = str(WORK / "hub.duckdb") if method == "hub_incremental" else pg_target
                if method == "hub_incremental" and not (WORK / "hub.duckdb").exists():
                    continue
                changed = change_one_percent(args.pg, args.rows)
                argv = lambda target=target: [py, me, "--child", "hub", "--sources", str(sql_sources),  # noqa: E731
                                              "--out", target]
                print(f"  changed {changed:,} rows for {method}", flush=True)
            elif method == "hub_full_pgwarehouse" and round_no > 1:
                pg_target = fresh_pg_warehouse(args.pg)
            r = measure(method, argv())
            runs.setdefault(method, []).append(r)
            print(_line(method, r), flush=True)
    results: dict[str, dict] = {method: _median_run(rs) for method, rs in runs.items()}
    if args.repeat > 1:
        print(f"median of {args.repeat} rounds (by work_seconds; process_seconds and peak_rss_mb of that run):")
        for method, r in results.items():
            print(_line(method, r), flush=True)
    for line in bars(results):
        print(line)
    for line in where_the_time_went("hub_incremental", results.get("hub_incremental", {})):
        print(line)
    results["_meta"] = {"rows": args.rows, "cpus": os.cpu_count(), "rounds": args.repeat,
                        "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    (HERE / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {HERE / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
