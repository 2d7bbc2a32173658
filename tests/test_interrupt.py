"""A run killed with SIGKILL in the middle of a load, then run again, ends where a clean run ends.

The watermark, the file ledger and the data commit together, so a killed run leaves either the old
state or the new one of each batch and the next run converges.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb

from pipelines.demo_data import generate_demo

CORE = ("department", "matter", "case", "license", "license_record", "push", "feedback", "evaluation")


def hub_run(sources, warehouse) -> subprocess.Popen:
    env = dict(os.environ, HUB_SOURCES=str(sources), HUB_WAREHOUSE=str(warehouse))
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def content(warehouse) -> dict[str, object]:
    """Every core table's rows without batch ids and load times, plus quarantine and findings."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        for table in CORE:
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'core' AND table_name = $1"
                " AND column_name NOT IN ('_batch_id', '_loaded_at') ORDER BY ordinal_position", [table]).fetchall()]
            out[table] = con.execute(
                f"SELECT count(*), sum(hash(struct_pack({', '.join(cols)}))) FROM core.{table}").fetchone()
        out["quarantine"] = con.execute(
            "SELECT count(*), sum(hash(struct_pack(_source, _source_key, reason, detail))) FROM quality.quarantine"
        ).fetchone()
        out["recognition"] = con.execute(
            "SELECT count(*), sum(hash(struct_pack(finding, entity, key, fields))) FROM quality.recognition"
        ).fetchone()
        out["watermarks"] = sorted(con.execute("SELECT _source, value FROM meta.watermarks").fetchall())
        out["files"] = sorted(con.execute("SELECT _source, path FROM meta.files").fetchall())
        return out
    finally:
        con.close()


def test_killed_run_converges(tmp_path):
    sources = generate_demo(tmp_path / "demo", scale=30_000)
    clean = tmp_path / "clean.duckdb"
    proc = hub_run(sources, clean)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out

    killed = tmp_path / "killed.duckdb"
    kills = 0
    for delay in (2.5, 4.0, 7.0):  # creating the model, inside the first loads, then further on
        proc = hub_run(sources, killed)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=60)
    assert kills >= 1
    proc = hub_run(sources, killed)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    assert content(killed) == content(clean)
