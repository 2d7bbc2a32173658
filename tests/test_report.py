"""The quality report renders in a real headless browser (Debian's chromium), Chinese included."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.config import FieldSpec, StreamConfig
from quality.report import build_report
from tests.conftest import uscc
from warehouse.loading import load_batch, register_source

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_renders_in_chromium(tmp_path, warehouse):
    dept = uscc("11150000MB0000000")
    st = StreamConfig(source="zj", name="departments", entity="department", key=("C",), table="D",
                      fields={"dept_code": FieldSpec("dept_code", column="C"), "name": FieldSpec("name", column="N"),
                              "region_code": FieldSpec("region_code", column="R")})
    register_source(warehouse, st, department=dept, label="住建厅审批系统", kind="sql")
    load_batch(warehouse, st, [pa.record_batch({"C": [dept, "BAD"], "N": ["住建厅", "某部门"],
                                                "R": ["150000", "150000"]})])
    index = build_report(warehouse, tmp_path / "reports")
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", index.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "数据质量报告" in dom.stdout
    assert "统一社会信用代码校验位错误" in dom.stdout and "bad_uscc" in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1200,900",
                    f"--screenshot={shot}", index.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
    assert (index.parent / "data_docs" / "index.html").exists()


def test_data_docs_keep_every_entity_across_runs(tmp_path, warehouse):
    from pipelines.extract import validate_with_expectations
    from quality import report

    dept = uscc("11150000MB0000000")
    reports = tmp_path / "reports"
    for entity, rows in (("department", {"C": [dept], "N": ["住建厅"], "R": ["150000"]}),
                         ("matter", {"C": ["XK1"], "N": ["施工许可"], "R": ["150100"]})):
        fields = {"dept_code": "C", "name": "N", "region_code": "R"} if entity == "department" else {
            "matter_code": "C", "name": "N", "region_code": "R"}
        st = StreamConfig(source="s", name=entity, entity=entity, key=("C",), table="T",
                          fields={k: FieldSpec(k, column=v) for k, v in fields.items()})
        register_source(warehouse, st, department=dept, label="测试", kind="sql")
        report._latest.clear()  # a new run: only this entity is validated in it
        load_batch(warehouse, st, [pa.record_batch(rows)], validate=validate_with_expectations)
        build_report(warehouse, reports)
    index = (reports / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert "core.department" in index and "core.matter" in index


def test_data_docs_templates_compile_once_per_machine(tmp_path, warehouse):
    """The Data Docs views keep compiled Jinja templates in a bytecode cache, so a later run (a new
    process) does not compile GX's page templates again."""
    from pipelines.extract import validate_with_expectations
    from quality.gx_docs_views import _CACHE

    for old in Path(_CACHE.directory).glob("__jinja2_*.cache"):
        old.unlink()
    dept = uscc("11150000MB0000000")
    st = StreamConfig(source="s", name="departments", entity="department", key=("C",), table="T",
                      fields={k: FieldSpec(k, column=v) for k, v in {"dept_code": "C", "name": "N",
                                                                      "region_code": "R"}.items()})
    register_source(warehouse, st, department=dept, label="测试", kind="sql")
    load_batch(warehouse, st, [pa.record_batch({"C": [dept], "N": ["住建厅"], "R": ["150000"]})],
               validate=validate_with_expectations)
    index = build_report(warehouse, tmp_path / "reports")
    cached = list(Path(_CACHE.directory).glob("__jinja2_*.cache"))
    assert len(cached) >= 2  # the page and the index templates at least
    docs = (index.parent / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert "core.department" in docs


def test_static_assets_copied_once_per_gx_version(tmp_path, warehouse):
    """GX's styles, fonts and images land in a site at its first build; later builds leave them,
    unless the site holds another GX version's."""
    import great_expectations as gx

    from pipelines.extract import validate_with_expectations
    from quality import report

    dept = uscc("11150000MB0000000")
    st = StreamConfig(source="s", name="departments", entity="department", key=("C",), table="T",
                      fields={k: FieldSpec(k, column=v) for k, v in {"dept_code": "C", "name": "N",
                                                                      "region_code": "R"}.items()})
    register_source(warehouse, st, department=dept, label="测试", kind="sql")
    reports = tmp_path / "reports"
    static = reports / "data_docs" / "static"

    def run_once() -> None:
        report._latest.clear()
        load_batch(warehouse, st, [pa.record_batch({"C": [dept], "N": ["住建厅"], "R": ["150000"]})],
                   validate=validate_with_expectations)
        build_report(warehouse, reports)

    run_once()
    assets = sorted(p for p in static.rglob("*") if p.is_file() and p.name != ".gx_version")
    shipped = Path(gx.__file__).parent / "render" / "view" / "static"  # all of them, subfolders too
    assert len(assets) == sum(1 for p in shipped.rglob("*") if p.is_file() and p.name != ".DS_Store") > 10
    assert (static / ".gx_version").read_text() == gx.__version__
    written = {p: p.stat().st_mtime_ns for p in assets}
    assets[0].unlink()  # a later build does not look at the files themselves …
    run_once()
    assert not assets[0].exists() and all(p.stat().st_mtime_ns == t for p, t in written.items() if p != assets[0])
    (static / ".gx_version").write_text("0.0.0")  # … but at the version that copied them
    run_once()
    assert assets[0].exists() and (static / ".gx_version").read_text() == gx.__version__


def test_superseded_validation_pages_leave_nothing_behind(tmp_path, warehouse):
    """Each run's validation page replaces the entity's previous one: no file, no empty folder and
    no line of the page list stays behind for it (an hourly hub would pile them up)."""
    from pipelines.extract import validate_with_expectations
    from quality import report
    from quality.gx_duckdb import BUILT_PAGES

    dept = uscc("11150000MB0000000")
    st = StreamConfig(source="s", name="departments", entity="department", key=("C",), table="T",
                      fields={k: FieldSpec(k, column=v) for k, v in {"dept_code": "C", "name": "N",
                                                                      "region_code": "R"}.items()})
    register_source(warehouse, st, department=dept, label="测试", kind="sql")
    docs = tmp_path / "reports" / "data_docs"
    for name in ("住建厅", "住房和城乡建设厅", "自治区住建厅"):
        report._latest.clear()
        load_batch(warehouse, st, [pa.record_batch({"C": [dept], "N": [name], "R": ["150000"]})],
                   validate=validate_with_expectations)
        build_report(warehouse, tmp_path / "reports")
    pages = [p for p in (docs / "validations").rglob("*") if p.is_file()]
    assert len(pages) == 1  # the latest validation of core.department
    assert all(any(p.iterdir()) for p in (docs / "validations").rglob("*") if p.is_dir())
    assert len((docs / BUILT_PAGES).read_text(encoding="utf-8").splitlines()) == 1
