"""The warehouse as a Dagster resource."""


from contextlib import contextmanager

import dagster as dg

from warehouse.connection import connect
from warehouse.schema import create_schema


class WarehouseResource(dg.ConfigurableResource):
    """The hub's warehouse: a DuckDB file path (HUB_WAREHOUSE); the schema is created on first use."""

    target: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        with self.connection() as con:
            create_schema(con)

    @contextmanager
    def connection(self):
        con = connect(self.target)
        try:
            yield con
        finally:
            con.close()
