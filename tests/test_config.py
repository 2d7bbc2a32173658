"""A user's mistakes in sources.yaml fail with one message naming file, source and key."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines.config import ConfigError, check_environment, load_config

GOOD = """
sources:
  amr:
    department: "11150000MB0000000X"
    label: 市场监管局许可审批系统
    connection:
      kind: sql
      url: ${AMR_DB_URL}
    streams:
      licenses:
        entity: license
        table: T_XZXK_XKZXX
        key: [XKZBH]
        cursor: GXSJ
        fields:
          license_no: XKZBH
          holder_code: TYSHXYDM
          holder_name: QYMC
          issued_on: {column: FZRQ, format: "%Y%m%d"}
          valid_to: YXQZ
          status: {column: ZT, map: {"1": valid, "2": revoked, "3": cancelled}}
          issuing_dept_code: {value: "11150000MB0000000X"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_contract_example_parses(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    stream = config.sources["amr"].streams["licenses"]
    assert stream.qualified_name == "amr.licenses"
    assert stream.fields["status"].map == {"1": "valid", "2": "revoked", "3": "cancelled"}
    assert stream.fields["issuing_dept_code"].value == "11150000MB0000000X"
    assert stream.fields["issued_on"].format == "%Y%m%d"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("        cursor: GXSJ", "        cursr: GXSJ", ["amr", "licenses", "cursr", "cursor"]),
        ("      kind: sql", "      kind: oracle", ["amr", "kind", "oracle"]),
        ("        entity: license", "        entity: licence", ["amr", "licenses", "entity", "licence"]),
        ("          holder_name: QYMC", "          holder_nam: QYMC", ["holder_nam", "holder_name"]),
        ("    label: 市场监管局许可审批系统", "    lable: x", ["amr", "lable", "label"]),
        ("  amr:", "  AMR:", ["AMR", "[a-z]"]),
    ],
)
def test_mistakes_name_file_source_and_key(tmp_path, old, new, expected):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    for word in expected:
        assert word in message


def test_unset_variable_is_named_without_any_value(tmp_path, monkeypatch):
    monkeypatch.delenv("AMR_DB_URL", raising=False)
    config = load_config(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match=r"amr → connection → url.*\$\{AMR_DB_URL\} is not set"):
        check_environment(config)


def test_not_yaml(tmp_path):
    with pytest.raises(ConfigError, match=r"line \d+, column \d+: not valid YAML"):
        load_config(write(tmp_path, "sources:\n  amr: [unclosed\n"))


def test_cli_prints_one_line_and_leaves_warehouse_untouched(tmp_path):
    path = write(tmp_path, GOOD.replace("      kind: sql", "      kind: ftp"))
    wh = tmp_path / "wh.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--sources", str(path), "--warehouse", str(wh)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "amr" in proc.stderr and "kind" in proc.stderr and str(path) in proc.stderr
    assert not wh.exists()


def test_missing_table_is_a_config_error(tmp_path, monkeypatch):
    import sqlite3

    db = tmp_path / "amr.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE other (x)").connection.close()
    monkeypatch.setenv("AMR_DB_URL", f"sqlite:///{db}")
    path = write(tmp_path, GOOD)
    wh = tmp_path / "wh.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--sources", str(path), "--warehouse", str(wh)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "licenses" in proc.stderr and "T_XZXK_XKZXX" in proc.stderr and "table" in proc.stderr
    assert not wh.exists()


def test_unknown_sql_engine_is_named(tmp_path):
    path = write(tmp_path, GOOD.replace("      url: ${AMR_DB_URL}", "      url: ${AMR_DB_URL}\n      engine: jdbc"))
    with pytest.raises(ConfigError, match=r"amr → connection → engine.*'jdbc'"):
        load_config(path)
