"""The warehouse as a Dagster resource."""

from contextlib import contextmanager

import dagster as dg
from pydantic import PrivateAttr

from warehouse.connection import connect
from warehouse.schema import create_schema

# Every run that writes the warehouse carries this tag; dagster.yaml (beside workspace.yaml) lets
# one such run go at a time, so a second run waits in Dagster's queue instead of failing on
# DuckDB's single-writer lock.
WAREHOUSE_RUN_TAGS = {"hub/warehouse": "writer"}

_lent: dict[str, object] = {}  # target → the connection `hub run` holds open for its whole run


@contextmanager
def lend_connection(target: str, con):
    """Let the steps of a run in this process use `con`, the connection `hub run` opened on
    `target` to record the run's start and will record its end with: one warehouse opening per
    run instead of three (each open reads the catalogue, each close checkpoints the file)."""
    _lent[target] = con
    try:
        yield con
    finally:
        _lent.pop(target, None)


class WarehouseResource(dg.ConfigurableResource):
    """The hub's warehouse (HUB_WAREHOUSE): a DuckDB file path, or a postgresql:// URL whose local working
    copy this opens (warehouse/postgres.py); the schema is created on first use.

    Within a run, the first step that asks opens one connection and every later step reuses it
    (the definitions use the in-process executor: DuckDB has a single writer), which saves opening
    and checkpointing the file at every step. Nothing is opened before a step asks, so a schedule
    that only reads `target` leaves the file alone.
    """

    target: str
    _in_run = PrivateAttr(default=False)
    _con = PrivateAttr(default=None)
    _owned = PrivateAttr(default=False)  # opened here (closed at teardown), not lent by `hub run`

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._in_run = True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._con is not None and self._owned:
            self._con.close()
        self._con = None
        self._in_run = False

    @contextmanager
    def connection(self):
        if self._in_run:
            if self._con is None:
                lent = _lent.get(self.target)
                self._owned = lent is None
                self._con = connect(self.target) if lent is None else lent
                create_schema(self._con)
            yield self._con
            return
        con = connect(self.target)
        try:
            yield con
        finally:
            con.close()
