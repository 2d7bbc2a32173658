"""Shared fixtures: real DuckDB files in tmp folders, real SQLite sources, valid Chinese codes."""

from __future__ import annotations

import pytest

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(body17: str) -> str:
    """Complete a 17-char body with its GB 32100-2015 check character."""
    total = sum(USCC_ALPHABET.index(ch) * pow(3, i, 31) for i, ch in enumerate(body17))
    return body17 + USCC_ALPHABET[(31 - total % 31) % 31]


def resident_id(body17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights)) % 11]


@pytest.fixture
def warehouse(tmp_path):
    from warehouse.connection import connect
    from warehouse.schema import create_schema

    con = connect(tmp_path / "wh.duckdb")
    create_schema(con)
    yield con
    con.close()


@pytest.fixture(autouse=True)
def _reports_in_tmp(tmp_path_factory, monkeypatch):
    """Runs in tests write their quality report into a temporary folder, not the checkout."""
    monkeypatch.setenv("HUB_REPORTS", str(tmp_path_factory.getbasetemp() / "reports"))
