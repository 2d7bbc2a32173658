"""Each connection kind through the whole pipeline into core: http (a local server), file, sql."""

from __future__ import annotations

import json
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from pipelines.config import load_config
from pipelines.extract import run_stream
from tests.conftest import uscc

DEPT = uscc("11150000MB0000000")
HOLDER = uscc("91150100MA0000001")

LICENSES = [
    {"zzbh": f"SP1501{i:04d}", "tyshxydm": HOLDER, "qymc": "呼和浩特市某某餐饮有限公司", "fzrq": f"2024-03-0{1 + i % 9}",
     "gxsj": f"2024-03-01 10:00:{i:02d}"}
    for i in range(25)
]


class Api(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        if self.headers.get("Authorization") != "Bearer s3cret":
            self.send_response(401)
            self.end_headers()
            return
        q = parse_qs(urlparse(self.path).query)
        page, size = int(q["page"][0]), int(q["size"][0])
        since = q.get("updated_after", [""])[0]
        rows = [r for r in LICENSES if r["gxsj"] > since]
        body = {"code": 0, "data": {"total": len(rows), "list": rows[(page - 1) * size: page * size]}}
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_stream_pages_into_core_incrementally(tmp_path, warehouse, api, monkeypatch):
    monkeypatch.setenv("SP_TOKEN", "s3cret")
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""
        sources:
          sp:
            department: "{DEPT}"
            label: 食品经营许可接口
            connection: {{kind: http, base_url: "{api}", token: "${{SP_TOKEN}}"}}
            streams:
              licenses:
                entity: license
                path: /api/licenses
                records: data.list
                paging: {{style: page, page_param: page, size_param: size, size: 10, total: data.total}}
                since_param: updated_after
                key: [zzbh]
                cursor: gxsj
                fields:
                  license_no: zzbh
                  holder_code: tyshxydm
                  holder_name: qymc
                  issued_on: fzrq
                  issuing_dept_code: {{value: "{DEPT}"}}
        """), encoding="utf-8")
    warehouse.execute("INSERT INTO core.department (dept_code, name, _source, _batch_id, _loaded_at)"
                      " VALUES ($1, '市场监管局', 'test', 'b0', now()::TIMESTAMP)", [DEPT])
    config = load_config(path)
    stream = config.sources["sp"].streams["licenses"]
    first = run_stream(warehouse, config, stream)
    assert (first.extracted, first.loaded, first.quarantined) == (25, 25, 0)
    assert warehouse.execute("SELECT count(*) FROM core.license").fetchone()[0] == 25
    assert warehouse.execute("SELECT value FROM meta.watermarks").fetchone()[0] == "2024-03-01 10:00:24"
    LICENSES.append({"zzbh": "SP15019999", "tyshxydm": HOLDER, "qymc": "新店", "fzrq": "2024-04-01",
                     "gxsj": "2024-04-01 00:00:00"})
    try:
        second = run_stream(warehouse, config, stream)
    finally:
        LICENSES.pop()
    assert (second.extracted, second.loaded) == (1, 1)
    assert warehouse.execute("SELECT count(*) FROM core.license").fetchone()[0] == 26


def _department_csv(rows: list[tuple[str, str, str]]) -> str:
    return "统一社会信用代码,部门名称,行政区划代码\n" + "".join(f"{c},{n},{r}\n" for c, n, r in rows)


def test_exchange_folder_loads_each_file_once_and_names_a_broken_one(tmp_path, warehouse):
    drop = tmp_path / "exchange"
    drop.mkdir()
    good = [(uscc(f"11150100MB00000{i:02d}"), f"呼和浩特市部门{i}", "150100") for i in range(3)]
    (drop / "departments_1.csv").write_bytes(_department_csv(good[:2]).encode("gb18030"))
    (drop / "departments_2.csv").write_bytes(_department_csv(good[2:]).encode("utf-8"))  # wrong encoding
    (drop / "departments_3.csv.tmp").write_bytes(b"still being written")
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent("""
        sources:
          exchange:
            department: "11150000MB0000000X"
            connection: {kind: file, path: exchange, encoding: gb18030, settle_seconds: 0}
            streams:
              departments:
                entity: department
                pattern: "departments_*.csv"
                key: [统一社会信用代码]
                fields:
                  dept_code: 统一社会信用代码
                  name: 部门名称
                  region_code: 行政区划代码
        """), encoding="utf-8")
    config = load_config(path)
    stream = config.sources["exchange"].streams["departments"]
    first = run_stream(warehouse, config, stream)
    assert first.loaded == 2
    assert len(first.errors) == 1 and "departments_2.csv" in first.errors[0]
    assert warehouse.execute("SELECT count(*) FROM meta.files").fetchone()[0] == 1
    # The sender fixes the file: the next run takes it, and only it.
    (drop / "departments_2.csv").write_bytes(_department_csv(good[2:]).encode("gb18030"))
    second = run_stream(warehouse, config, stream)
    assert (second.loaded, second.errors) == (1, [])
    third = run_stream(warehouse, config, stream)
    assert (third.extracted, third.errors) == (0, [])
    # The ledger keeps each file's inode change time, so settled files are not hashed again.
    assert warehouse.execute("SELECT count(*) FROM meta.files WHERE ctime_ns IS NULL").fetchone()[0] == 0
    # A ledger written before ctime was kept gets it at the next run, and still loads nothing again.
    warehouse.execute("UPDATE meta.files SET ctime_ns = NULL")
    fourth = run_stream(warehouse, config, stream)
    assert (fourth.extracted, fourth.errors) == (0, [])
    assert warehouse.execute("SELECT count(*) FROM meta.files WHERE ctime_ns IS NULL").fetchone()[0] == 0
    names = {n for (n,) in warehouse.execute("SELECT name FROM core.department").fetchall()}
    assert names == {n for _, n, _ in good}


def test_a_whole_table_read_again_changes_nothing_but_what_changed(tmp_path, warehouse):
    import sqlite3

    db = tmp_path / "dept.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE D (CODE, NAME, REG)")
    rows = [(uscc(f"11150200MB00000{i:02d}"), f"包头市部门{i}", "150200") for i in range(5)]
    stray = uscc("11150200MB0000077")
    con.executemany("INSERT INTO D VALUES (?, ?, ?)", rows + [("BAD", "坏代码", "150200"), (stray, "区划错", "159999")])
    con.commit()
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(f"""
        sources:
          ref:
            department: "{DEPT}"
            connection: {{kind: sql, url: "sqlite:///{db}"}}
            streams:
              departments:
                entity: department
                table: D
                key: [CODE]
                fields: {{dept_code: CODE, name: NAME, region_code: REG}}
        """), encoding="utf-8")
    config = load_config(path)
    stream = config.sources["ref"].streams["departments"]
    first = run_stream(warehouse, config, stream)
    assert (first.extracted, first.loaded, first.quarantined) == (7, 5, 2)

    def counts():
        return [warehouse.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("raw.ref__departments", "quality.quarantine", "core.department", "meta.batches")]

    before = counts()
    again = run_stream(warehouse, config, stream)  # no cursor: read whole, nothing new
    assert (again.extracted, again.unchanged) == (0, 7)
    assert counts() == before
    con.execute("UPDATE D SET NAME = '包头市部门零' WHERE REG = '150200' AND NAME = '包头市部门0'")
    con.commit()
    changed = run_stream(warehouse, config, stream)
    assert (changed.extracted, changed.loaded, changed.unchanged) == (1, 1, 6)
    # The department corrects the region: the row loads and its quarantine entry is marked resolved.
    con.execute("UPDATE D SET REG = '150200' WHERE REG = '159999'")
    con.commit()
    fixed = run_stream(warehouse, config, stream)
    assert (fixed.extracted, fixed.loaded) == (1, 1)
    open_keys = warehouse.execute("SELECT _source_key FROM quality.quarantine WHERE resolved_at IS NULL").fetchall()
    assert open_keys == [("BAD",)]
    assert warehouse.execute("SELECT count(*) FROM quality.quarantine").fetchone()[0] == 2  # kept, not dropped
    assert warehouse.execute("SELECT count(*) FROM core.department WHERE name = '包头市部门零'").fetchone()[0] == 1
    con.close()
