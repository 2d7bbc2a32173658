"""Shared fixtures: real DuckDB files in tmp folders, real SQLite sources, valid Chinese codes."""

from __future__ import annotations

import pytest

from pipelines.demo_data import id_check_char, uscc_check_char


def uscc(body17: str) -> str:
    """Complete a 17-char body with its GB 32100-2015 check character."""
    return body17 + uscc_check_char(body17)


def resident_id(body17: str) -> str:
    """Complete a 17-digit body with its GB 11643-1999 check character."""
    return body17 + id_check_char(body17)


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
