"""The loader reads ahead of the warehouse within a byte budget, and stops cleanly either way."""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest

from warehouse.loading import prefetched


def _batch(i: int) -> pa.RecordBatch:
    return pa.record_batch({"n": pa.array([i] * 1000, pa.int64())})  # 8,000 bytes


def test_reads_ahead_within_the_budget():
    produced = []

    def source():
        for i in range(20):
            produced.append(i)
            yield _batch(i)

    reader = prefetched(source(), max_bytes=8000 * 4)
    first = next(reader)
    threading.Event().wait(0.2)  # let the reader run ahead as far as it may
    # Four batches fit the budget; the reader holds a fifth in hand, waiting for room.
    assert first.column(0)[0].as_py() == 0 and 4 <= len(produced) <= 6
    assert [b.column(0)[0].as_py() for b in reader] == list(range(1, 20))


def test_a_batch_larger_than_the_budget_still_passes():
    assert [b.num_rows for b in prefetched(iter([_batch(0), _batch(1)]), max_bytes=10)] == [1000, 1000]


def test_a_source_error_reaches_the_consumer_after_the_batches_before_it():
    def source():
        yield _batch(0)
        raise OSError("connection reset by peer")

    got = []
    with pytest.raises(OSError, match="connection reset"):
        for b in prefetched(source(), max_bytes=10**6):
            got.append(b)
    assert len(got) == 1


def test_the_reader_stops_when_the_consumer_does():
    def source():
        for i in range(10**6):
            yield _batch(i)

    reader = prefetched(source(), max_bytes=8000 * 2)
    next(reader)
    reader.close()  # the warehouse side failed: the generator is closed
    assert not any(t.name == "hub-prefetch" and t.is_alive() for t in threading.enumerate())
