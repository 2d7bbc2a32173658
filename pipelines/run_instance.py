"""The Dagster instance a `hub run` executes in.

With DAGSTER_HOME set, the user's own instance (runs and events kept, visible in the UI).
Without it, an ephemeral one, as `DagsterInstance.ephemeral()` builds it, except that its event
log stores every event on the one in-memory SQLite connection it already holds.

Why: Dagster's in-memory event log opens a new SQLite connection, and sets two PRAGMAs on it,
for every event it stores and every record it looks up (each step looks up the latest
materialisation of each of its upstream assets for data versions). An hourly `hub run` of one
stream stores some 130 events in 11 steps: on the benchmark's incremental run (10,000 changed
cases) those connections took 0.06 s of its 0.55 s of steps (three interleaved pairs).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import dagster as dg
from dagster._core.instance import InstanceType
from dagster._core.launcher.sync_in_memory_run_launcher import SyncInMemoryRunLauncher
from dagster._core.run_coordinator import DefaultRunCoordinator
from dagster._core.storage.event_log import InMemoryEventLogStorage
from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
from dagster._core.storage.root import TemporaryLocalArtifactStorage
from dagster._core.storage.runs import InMemoryRunStorage
from sqlalchemy import text


class HeldConnectionEventLogStorage(InMemoryEventLogStorage):
    """Dagster's in-memory event log on its held connection: one connection for the instance's
    life instead of one per statement batch. Access stays serialised by the storage's own lock."""

    def __init__(self) -> None:
        self._tables: dict[str, bool] = {}
        self._asset_key_cols: dict[str, bool] = {}
        super().__init__()
        with self._held_conn.begin():
            self._held_conn.execute(text("PRAGMA foreign_keys=ON;")).close()

    @contextmanager
    def _connect(self):
        with self._db_lock, self._held_conn.begin():
            yield self._held_conn

    def has_table(self, table_name: str) -> bool:
        # Asked while events are stored (a connection each in the stock class); the schema is the
        # one this storage created, so the answer cannot change.
        if table_name not in self._tables:
            self._tables[table_name] = super().has_table(table_name)
        return self._tables[table_name]

    def _has_asset_key_col_on_connection(self, conn, column_name: str) -> bool:
        # Asked, by reflecting the asset-key table's columns, for every asset event stored: the
        # same schema, the same answer.
        if column_name not in self._asset_key_cols:
            self._asset_key_cols[column_name] = super()._has_asset_key_col_on_connection(conn, column_name)
        return self._asset_key_cols[column_name]


def run_instance() -> dg.DagsterInstance:
    """The instance for one `hub run` (a context manager: close it when the run is summarised)."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance(
        instance_type=InstanceType.EPHEMERAL,
        local_artifact_storage=TemporaryLocalArtifactStorage(),
        run_storage=InMemoryRunStorage(),
        event_storage=HeldConnectionEventLogStorage(),
        compute_log_manager=NoOpComputeLogManager(),
        run_coordinator=DefaultRunCoordinator(),
        run_launcher=SyncInMemoryRunLauncher(),
    )
