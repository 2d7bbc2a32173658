"""The warehouse as a Dagster resource."""

from contextlib import contextmanager

import dagster as dg
from pydantic import PrivateAttr

from warehouse.connection import connect
from warehouse.schema import create_schema


class WarehouseResource(dg.ConfigurableResource):
    """The hub's warehouse: a DuckDB file path (HUB_WAREHOUSE); the schema is created on first use.

    A run holds one connection for all its steps (the definitions use the in-process executor:
    DuckDB has a single writer), which saves opening and checkpointing the file at every step.
    """

    target: str
    _con = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._con = connect(self.target)
        create_schema(self._con)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    @contextmanager
    def connection(self):
        if self._con is not None:
            yield self._con
            return
        con = connect(self.target)
        try:
            yield con
        finally:
            con.close()
