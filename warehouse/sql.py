"""Identifier quoting and bound parameters for generated SQL.

Identifiers that come from configuration (source column names, tables) are validated and quoted;
every value from configuration (map keys, constants, formats) is a bound parameter, never text
spliced into SQL.
"""

from __future__ import annotations

import re

SAFE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class UnsafeIdentifier(ValueError):
    pass


def quote_ident(name: str) -> str:
    """Quote any column name a source may use (Chinese headers included); reject control chars."""
    if not name or any(ord(ch) < 32 for ch in name) or len(name) > 128:
        raise UnsafeIdentifier(f"not a usable column name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def table_name(schema: str, name: str) -> str:
    """A warehouse table name we generate (schema.name), both parts from our own safe alphabet."""
    for part in (schema, name):
        if not SAFE_NAME.match(part):
            raise UnsafeIdentifier(f"not a safe warehouse name: {part!r}")
    return f"{schema}.{name}"


class Params:
    """Collects bound parameters while SQL text is generated (named `$p1`, `$p2`, …)."""

    def __init__(self, prefix: str = "p") -> None:
        self.prefix = prefix
        self.values: dict[str, object] = {}

    def __call__(self, value) -> str:
        name = f"{self.prefix}{len(self.values) + 1}"
        self.values[name] = value
        return f"${name}"


def insert_rows(con, table: str, rows: list[tuple], *, replace: bool = False) -> None:
    """INSERT [OR REPLACE] of `rows` (tuples in the table's column order) as one statement with
    bound values: executemany runs one INSERT per row (and, outside a transaction, one commit each)."""
    if not rows:
        return
    marks = "(" + ", ".join("?" * len(rows[0])) + ")"
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    con.execute(f"{verb} INTO {table} VALUES {', '.join(marks for _ in rows)}", [v for row in rows for v in row])
