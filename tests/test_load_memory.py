"""A batch's memory is bounded by its chunks, not by the batch.

A SQL stream's first load is one batch of the whole table, landed chunk by chunk in one
transaction. The chunks must not stay in Arrow memory until that transaction commits (DuckDB keeps
an Arrow table registered inside a transaction alive until its end): what was landed is DuckDB's,
within its memory limit and spilled to disk beyond it.
"""

from __future__ import annotations

import pyarrow as pa

from tests.conftest import DEPT, stream, uscc
from warehouse import loading
from warehouse.loading import load_batch, register_source

CHUNKS = 40
ROWS = 2_500
NAME = "内蒙古自治区某某旗行政审批和政务服务局" * 6  # 114 characters: about 0.9 MB of names a chunk


def test_landed_chunks_do_not_accumulate_in_arrow_memory(warehouse, monkeypatch):
    monkeypatch.setattr(loading, "LAND_ROWS", ROWS)  # one INSERT per source batch
    monkeypatch.setattr(loading, "LAND_BYTES", 64 * 1024)  # and no reading far ahead
    st = stream("department", {"dept_code": "C", "name": "N", "region_code": "R"}, key=("C",))
    register_source(warehouse, st, department=DEPT, label="test", kind="sql")
    baseline = pa.total_allocated_bytes()
    peak = 0
    chunk_bytes = 0

    def batches():
        nonlocal peak, chunk_bytes
        for i in range(CHUNKS):
            peak = max(peak, pa.total_allocated_bytes() - baseline)
            rb = pa.record_batch({
                "C": pa.array([uscc(f"11150000MB{i:03d}{j:04d}") for j in range(ROWS)]),
                "N": pa.array([NAME] * ROWS),
                "R": pa.array(["150000"] * ROWS),
            })
            chunk_bytes = rb.nbytes
            yield rb
        peak = max(peak, pa.total_allocated_bytes() - baseline)

    result = load_batch(warehouse, st, batches())

    assert result.loaded == CHUNKS * ROWS and result.quarantined == 0
    assert warehouse.execute("SELECT count(*) FROM core.department").fetchone()[0] == CHUNKS * ROWS
    # A few chunks in flight (the one landing, the one read ahead, their key columns), never the
    # forty of the batch.
    assert peak < 8 * chunk_bytes, (peak, chunk_bytes)
