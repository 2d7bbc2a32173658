"""connectors.files on real files written by the tests."""

import datetime as dt
import hashlib
import os
import threading
import time

import openpyxl
import pyarrow as pa
import pytest

from connectors.errors import SourceError
from connectors.files import DropFile, assert_unchanged, list_ready_files, read_file

WHERE = {"source": "amr", "stream": "licenses"}


def drop(path):
    """A DropFile for a file the test just wrote (bypassing the settle wait)."""
    st = path.stat()
    return DropFile(
        path, path.name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, hashlib.sha256(path.read_bytes()).hexdigest()
    )


def read_rows(path, **options):
    batches = list(read_file(drop(path), **WHERE, **options))
    for b in batches:
        assert all(t == pa.string() for t in b.schema.types)
    return batches, [row for b in batches for row in b.to_pylist()]


def write(path, text, encoding):
    path.write_bytes(text.encode(encoding))
    return path


CSV_TEXT = "XKZBH, QYMC ,XZQH,JE\nA001,呼和浩特市某公司,150100,1.50\nA002,包头市𠀀,,\n"


# ---------------------------------------------------------------- CSV


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig"])
def test_csv_encodings(tmp_path, encoding):
    path = write(tmp_path / "a.csv", CSV_TEXT, encoding)
    batches, rows = read_rows(path, format="csv", encoding=encoding)
    assert batches[0].schema.names == ["XKZBH", "QYMC", "XZQH", "JE"]  # header whitespace stripped
    assert rows == [
        {"XKZBH": "A001", "QYMC": "呼和浩特市某公司", "XZQH": "150100", "JE": "1.50"},
        {"XKZBH": "A002", "QYMC": "包头市𠀀", "XZQH": "", "JE": ""},  # empty stays empty, not NULL
    ]


def test_csv_gbk_and_bom_declared_utf8(tmp_path):
    gbk = write(tmp_path / "gbk.csv", "城市;代码\n呼和浩特市;010100\n", "gbk")
    assert read_rows(gbk, format="csv", encoding="gbk", delimiter=";")[1] == [
        {"城市": "呼和浩特市", "代码": "010100"}
    ]
    bom = write(tmp_path / "bom.csv", "\ufeff城市,代码\n乌海市,150300\n", "utf-8")
    assert read_rows(bom, format="csv", encoding="utf-8")[1] == [{"城市": "乌海市", "代码": "150300"}]


def test_csv_quoted_newline_and_header_only(tmp_path):
    path = write(tmp_path / "q.csv", 'a,b\n"line one\nline two","x,y"\n', "utf-8")
    assert read_rows(path, format="csv")[1] == [{"a": "line one\nline two", "b": "x,y"}]
    header_only = write(tmp_path / "h.csv", "a,b\n", "utf-8")
    batches, rows = read_rows(header_only, format="csv")
    assert rows == [] and batches[0].schema.names == ["a", "b"]


def test_csv_wrong_encoding_names_file_and_line(tmp_path):
    path = tmp_path / "declared-utf8.csv"
    path.write_bytes(
        "城市,代码\n".encode() + "乌海市,150300\n".encode() + "呼和浩特市,150100\n".encode("gbk")
    )
    with pytest.raises(SourceError) as err:
        read_rows(path, format="csv", encoding="utf-8")
    text = str(err.value)
    assert "source 'amr'" in text and "stream 'licenses'" in text and "declared-utf8.csv" in text
    assert err.value.line == 3 and "line 3" in text and "not valid utf-8" in text
    bad_gb = tmp_path / "bad.csv"
    bad_gb.write_bytes("a,b\n".encode("gb18030") + b"1,\x80\x80\n")
    with pytest.raises(SourceError, match="line 2: text is not valid gb18030"):
        read_rows(bad_gb, format="csv", encoding="gb18030")


def test_csv_malformed_row(tmp_path):
    path = write(tmp_path / "m.csv", "a,b,c\n1,2,3\n4,5\n6,7,8\n", "utf-8")
    with pytest.raises(SourceError, match=r"m\.csv', line 3: malformed row: expected 3 columns, got 2"):
        read_rows(path, format="csv")
    gbk = write(tmp_path / "m-gbk.csv", "a,b\n呼和浩特,1\n包头,2,3\n", "gbk")
    with pytest.raises(SourceError, match="line 3: malformed row"):
        read_rows(gbk, format="csv", encoding="gbk")


def test_csv_bad_header_and_empty_file(tmp_path):
    with pytest.raises(SourceError, match="repeats column name 'a'"):
        read_rows(write(tmp_path / "d.csv", "a, a\n1,2\n", "utf-8"), format="csv")
    with pytest.raises(SourceError, match="header column 2 has no name"):
        read_rows(write(tmp_path / "e.csv", "a,\n1,2\n", "utf-8"), format="csv")
    with pytest.raises(SourceError, match="file is empty"):
        read_rows(write(tmp_path / "z.csv", "", "utf-8"), format="csv")


def test_csv_batches_and_large_file(tmp_path):
    small = write(tmp_path / "s.csv", "n\n" + "".join(f"{i}\n" for i in range(5)), "utf-8")
    batches, rows = read_rows(small, format="csv", batch_rows=2)
    assert [b.num_rows for b in batches] == [2, 2, 1]
    assert [r["n"] for r in rows] == ["0", "1", "2", "3", "4"]
    big = tmp_path / "big.csv"
    with open(big, "w", encoding="gb18030") as fh:
        fh.write("id,城市\n")
        fh.writelines(f"{i:07d},呼和浩特市\n" for i in range(200_000))
    batches = list(read_file(drop(big), **WHERE, format="csv", encoding="gb18030", batch_rows=30_000))
    assert len(batches) > 7 and max(b.num_rows for b in batches) <= 30_000
    assert sum(b.num_rows for b in batches) == 200_000
    assert batches[0].column(0)[0].as_py() == "0000000"


# ---------------------------------------------------------------- xlsx


def test_xlsx(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "许可"
    ws.append([" 许可证编号 ", "发证日期", "更新时间", "有效期止", "金额", "整数", "标志", "备注"])
    ws.append(["A001", dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5), 45292, 1.5, 3.0, True, None])
    ws.append(
        [
            "A002",
            dt.datetime(2024, 2, 3),
            dt.datetime(2024, 2, 3, 0, 0),
            45292.5,
            0.1 + 0.2,
            7,
            False,
            "呼和浩特市",
        ]
    )
    ws.append([None] * 8)  # blank row: skipped
    ws.append(["A003"])
    ws["B3"].number_format = "yyyy/m/d"  # a midnight datetime shown as a date is a date
    ws["C3"].number_format = "yyyy-mm-dd hh:mm:ss"
    other = wb.create_sheet("其他")
    other.append(["x"])
    other.append(["y"])
    path = tmp_path / "a.xlsx"
    wb.save(path)

    batches, rows = read_rows(path, format="xlsx", batch_rows=2)
    assert [b.num_rows for b in batches] == [2, 1]
    assert batches[0].schema.names == [
        "许可证编号",
        "发证日期",
        "更新时间",
        "有效期止",
        "金额",
        "整数",
        "标志",
        "备注",
    ]
    assert rows[0] == {
        "许可证编号": "A001",
        "发证日期": "2024-01-02",
        "更新时间": "2024-01-02 03:04:05",
        "有效期止": "45292",
        "金额": "1.5",
        "整数": "3",
        "标志": "true",
        "备注": None,
    }
    assert rows[1] == {
        "许可证编号": "A002",
        "发证日期": "2024-02-03",
        "更新时间": "2024-02-03 00:00:00",
        "有效期止": "45292.5",
        "金额": "0.3",
        "整数": "7",
        "标志": "false",
        "备注": "呼和浩特市",
    }
    assert rows[2]["许可证编号"] == "A003" and rows[2]["备注"] is None
    assert read_rows(path, format="xlsx", sheet="其他")[1] == [{"x": "y"}]
    with pytest.raises(SourceError, match="no sheet 'nope'"):
        read_rows(path, format="xlsx", sheet="nope")


def test_xlsx_errors(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["a", "b"])
    wb.active.append([1, 2, "orphan"])
    path = tmp_path / "orphan.xlsx"
    wb.save(path)
    with pytest.raises(SourceError, match="line 2: value in column C, which has no header"):
        read_rows(path, format="xlsx")
    not_xlsx = write(tmp_path / "fake.xlsx", "a,b\n", "utf-8")
    with pytest.raises(SourceError, match="fake.xlsx.*not a readable .xlsx"):
        read_rows(not_xlsx, format="xlsx")


# ---------------------------------------------------------------- jsonl


def test_jsonl(tmp_path):
    lines = [
        '{"XKZBH": "A001", "QYMC": "呼和浩特市某公司", "JE": 1.10, "N": 12345678901234567890, "OK": true}',
        "",
        '{"XKZBH": "A002", "JE": 1e20, "EXTRA": {"城市": "包头市", "codes": [1, 2.50]}, "OK": null}',
        '{"XKZBH": "A003", "QYMC": "", "ARR": []}',
    ]
    path = write(tmp_path / "a.jsonl", "\ufeff" + "\n".join(lines) + "\n", "utf-8")
    batches, rows = read_rows(path, format="jsonl", batch_rows=2)
    assert [b.num_rows for b in batches] == [2, 1]
    assert batches[0].schema.names == ["XKZBH", "QYMC", "JE", "N", "OK", "EXTRA"]
    assert batches[1].schema.names == ["XKZBH", "QYMC", "JE", "N", "OK", "EXTRA", "ARR"]
    assert rows[0] == {
        "XKZBH": "A001",
        "QYMC": "呼和浩特市某公司",
        "JE": "1.10",
        "N": "12345678901234567890",
        "OK": "true",
        "EXTRA": None,
    }
    assert rows[1]["JE"] == "100000000000000000000" and rows[1]["OK"] is None and rows[1]["QYMC"] is None
    assert rows[1]["EXTRA"] == '{"城市":"包头市","codes":[1,2.50]}'
    assert rows[2]["QYMC"] == "" and rows[2]["ARR"] == "[]"


def test_jsonl_errors(tmp_path):
    bad = write(tmp_path / "bad.jsonl", '{"a": 1}\n{"a": 2,}\n', "utf-8")
    with pytest.raises(SourceError, match=r"bad\.jsonl', line 2: invalid JSON"):
        read_rows(bad, format="jsonl")
    arr = write(tmp_path / "arr.jsonl", '{"a": 1}\n\n[1, 2]\n', "utf-8")
    with pytest.raises(SourceError, match="line 3: expected a JSON object"):
        read_rows(arr, format="jsonl")
    gbk = write(tmp_path / "gbk.jsonl", '{"城市": "呼和浩特市"}\n', "gbk")
    with pytest.raises(SourceError, match="line 1: text is not valid utf-8"):
        read_rows(gbk, format="jsonl")
    assert read_rows(gbk, format="jsonl", encoding="gbk")[1] == [{"城市": "呼和浩特市"}]


def test_read_file_options(tmp_path):
    path = write(tmp_path / "a.csv", "a\n1\n", "utf-8")
    with pytest.raises(SourceError, match="unknown file format 'xml'"):
        read_file(drop(path), **WHERE, format="xml")
    with pytest.raises(SourceError, match="unknown encoding"):
        read_file(drop(path), **WHERE, format="csv", encoding="nope")


# ---------------------------------------------------------------- the drop folder


def old(path, seconds=10):
    """Backdate a file's mtime so it counts as settled."""
    t = time.time() - seconds
    os.utime(path, (t, t))
    return path


def test_list_ready_files(tmp_path):
    (tmp_path / "2024" / "01").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    for rel in [
        "b.csv",
        "a.csv",
        "2024/01/c.csv",
        "x.csv.tmp",
        "y.csv.part",
        "z.filepart",
        "~lock.csv",
        ".a.csv",
        ".hidden/d.csv",
        "notes.txt",
    ]:
        old(write(tmp_path / rel, f"a\n{rel}\n", "utf-8"))
    found = list_ready_files(tmp_path, "**/*.csv", **WHERE, settle_seconds=0.2)
    assert [f.relpath for f in found] == ["2024/01/c.csv", "a.csv", "b.csv"]
    a = found[1]
    assert a.path == tmp_path / "a.csv" and a.size == a.path.stat().st_size
    assert a.sha256 == hashlib.sha256(a.path.read_bytes()).hexdigest()
    assert [f.relpath for f in list_ready_files(tmp_path, "*.csv", **WHERE)] == ["a.csv", "b.csv"]
    with pytest.raises(SourceError, match="drop folder .*nowhere.* does not exist"):
        list_ready_files(tmp_path / "nowhere", "*.csv", **WHERE)


def test_ledgered_files_are_not_read_again(tmp_path):
    a = old(write(tmp_path / "a.csv", "a\n1\n", "utf-8"))
    b = old(write(tmp_path / "b.csv", "a\n2\n", "utf-8"))
    st_a, st_b = a.stat(), b.stat()
    # What the ledger says of a.csv is believed as long as its size and ctime are the same; b.csv
    # was rewritten since (another ctime), so it is hashed again.
    known = {("a.csv", st_a.st_size, st_a.st_ctime_ns): "ledgered-hash", ("b.csv", st_b.st_size, 1): "stale"}
    found = {f.relpath: f.sha256 for f in list_ready_files(tmp_path, "*.csv", **WHERE, known=known)}
    assert found == {"a.csv": "ledgered-hash", "b.csv": hashlib.sha256(b.read_bytes()).hexdigest()}
    # A correction of the same size given the old mtime back (rsync -t, touch -d) is still read.
    time.sleep(0.05)
    a.write_text("a\n9\n", encoding="utf-8")
    os.utime(a, ns=(st_a.st_atime_ns, st_a.st_mtime_ns))
    assert a.stat().st_mtime_ns == st_a.st_mtime_ns and a.stat().st_size == st_a.st_size
    found = {f.relpath: f.sha256 for f in list_ready_files(tmp_path, "*.csv", **WHERE, known=known)}
    assert found["a.csv"] == hashlib.sha256(b"a\n9\n").hexdigest()


def test_young_file_is_waited_for(tmp_path):
    path = write(tmp_path / "fresh.csv", "a\n1\n", "utf-8")  # just written, then left alone
    started = time.monotonic()
    found = list_ready_files(tmp_path, "*.csv", **WHERE, settle_seconds=0.5)
    assert [f.relpath for f in found] == ["fresh.csv"]
    assert 0.3 <= time.monotonic() - started < 3
    assert found[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_growing_file_is_skipped(tmp_path):
    old(write(tmp_path / "done.csv", "a\n1\n", "utf-8"))
    growing = tmp_path / "growing.csv"
    growing.write_text("a\n", encoding="utf-8")
    stop = threading.Event()

    def writer():
        with open(growing, "a", encoding="utf-8") as fh:
            while not stop.is_set():
                fh.write("1\n")
                fh.flush()
                time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        found = list_ready_files(tmp_path, "*.csv", **WHERE, settle_seconds=0.5)
    finally:
        stop.set()
        thread.join()
    assert [f.relpath for f in found] == ["done.csv"]


def test_assert_unchanged(tmp_path):
    path = old(write(tmp_path / "a.csv", "a\n1\n", "utf-8"))
    (f,) = list_ready_files(tmp_path, "*.csv", **WHERE)
    assert_unchanged(f, **WHERE)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("2\n")
    with pytest.raises(SourceError, match="a.csv'.*changed while it was being loaded"):
        assert_unchanged(f, **WHERE)
    path.unlink()
    with pytest.raises(SourceError, match="disappeared"):
        assert_unchanged(f, **WHERE)
