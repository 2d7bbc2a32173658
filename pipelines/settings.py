"""Where the sources file and the warehouse are: HUB_SOURCES and HUB_WAREHOUSE, read when asked.

Nothing here runs at import time; the CLI and the Dagster definitions call these when they load.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_data_dir() -> Path:
    """The project's `data/` folder: beside pyproject.toml in a checkout, else under the cwd."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file():
        return root / "data"
    return Path.cwd() / "data"


def default_demo_dir() -> Path:
    return project_data_dir() / "demo"


def sources_path() -> Path:
    value = os.environ.get("HUB_SOURCES")
    return Path(value).expanduser() if value else default_demo_dir() / "sources.yaml"


def warehouse_target() -> str:
    value = os.environ.get("HUB_WAREHOUSE")
    return value if value else str(project_data_dir() / "warehouse.duckdb")


def mask_target(target: str) -> str:
    """A warehouse URL without its password, for messages."""
    if "://" in target and "@" in target:
        scheme, rest = target.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return target


def reports_dir() -> Path:
    """Where the quality report is written (HUB_REPORTS, default data/reports)."""
    value = os.environ.get("HUB_REPORTS")
    return Path(value).expanduser() if value else project_data_dir() / "reports"
