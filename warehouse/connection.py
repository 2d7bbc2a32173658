"""Opening the warehouse: a DuckDB file by default (model.md: one schema per layer).

Each connection gets the few functions the generated SQL relies on (NFKC, region level), so the
SQL stays the same wherever it runs.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from quality.check_digits import resident_id_ok, uscc_check_ok


class WarehouseError(RuntimeError):
    pass


def _nfkc(values: pa.Array) -> pa.Array:
    # Unicode NFKC in Arrow's C++ kernels: full-width forms and the ideographic space fold to ASCII.
    # Pure-ASCII chunks (most codes, dates, numbers) are already normal: skip the work.
    if pc.all(pc.string_is_ascii(values)).as_py() is not False:
        return values
    return pc.utf8_normalize(values, "NFKC")


MACROS = (
    "CREATE OR REPLACE TEMP MACRO region_level(code) AS CASE WHEN code IS NULL THEN NULL"
    " WHEN code = '150000' THEN 'region' WHEN code LIKE '____00' THEN 'league' ELSE 'banner' END",
)


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://", "postgresql+"))


def local_file(target: str | os.PathLike) -> Path:
    """The DuckDB file the hub works in: the target itself, or a PostgreSQL warehouse's working copy."""
    target = str(target)
    if is_postgres(target):
        from warehouse.postgres import working_copy

        return working_copy(target)
    return Path(target).expanduser()


def connect(target: str | os.PathLike, *, read_only: bool = False, wait_seconds: float = 60.0,
            check_working_copy: bool = True):
    """Open the warehouse's DuckDB file, waiting for another writer to finish (single-writer file).

    For a PostgreSQL warehouse this is its working copy (warehouse/postgres.py), restored from
    PostgreSQL first when it is missing or older, started afresh when PostgreSQL was emptied
    (a round trip to PostgreSQL: `check_working_copy=False` where the run has just done it).
    """
    target = str(target)
    path = local_file(target)
    if is_postgres(target) and not read_only and check_working_copy:
        from warehouse.postgres import prepare_working_copy

        prepare_working_copy(target, path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise WarehouseError(f"warehouse {path}: cannot open ({exc})") from None
            time.sleep(0.5)
        except duckdb.ConnectionException as exc:  # open in this process with other settings
            raise WarehouseError(f"warehouse {path}: cannot open ({exc})") from None
    return configure(con)


def configure(con):
    """Session settings, the vectorised functions and the macros the generated SQL relies on."""
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    con.execute("SET memory_limit = '600MB'")
    con.execute("SET preserve_insertion_order = false")
    con.create_function("hub_nfkc", _nfkc, ["VARCHAR"], "VARCHAR", type="arrow", side_effects=False)
    # Check characters of party codes, vectorised (quality/check_digits.py); the row rules call them.
    # side_effects=True for the ID: its answer depends on today's date.
    con.create_function("hub_uscc_check_ok", uscc_check_ok, ["VARCHAR"], "BOOLEAN", type="arrow",
                        side_effects=False)
    con.create_function("hub_resident_id_ok", resident_id_ok, ["VARCHAR"], "BOOLEAN", type="arrow",
                        side_effects=True)
    for macro in MACROS:
        con.execute(macro)
    return con


@contextmanager
def transaction(con):
    """BEGIN … COMMIT around the block, ROLLBACK when it raises: its writes land whole or not at
    all, even when the process is killed half-way."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - the connection is gone; the error that matters follows
            pass
        raise
