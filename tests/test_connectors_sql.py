"""connectors.sql against real databases: a SQLite file, the local PostgreSQL and MariaDB."""

import sqlite3
import time
import uuid

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.errors import SourceError
from connectors.sql import check_connection, mask_url, read_sql

MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
FAST = (0.05, 0.05)  # retry delays for tests that expect a connection failure


def rows_of(extract):
    """All rows as dicts, checking the batch contract on the way."""
    batches = list(extract)
    for b in batches:
        assert all(t == pa.string() for t in b.schema.types)
    return batches, [row for b in batches for row in b.to_pylist()]


# ---------------------------------------------------------------- SQLite


@pytest.fixture
def sqlite_url(tmp_path):
    path = tmp_path / "src.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE T_XK (ID INTEGER, QYMC TEXT, JE REAL, GXSJ TEXT, RAW BLOB, MIXED)")
    con.executemany(
        "INSERT INTO T_XK VALUES (?, ?, ?, ?, ?, ?)",
        [
            (1, "呼和浩特市某公司", 1.5, "2024-01-01 08:00:00", b"\x00\xff", 1),
            (2, "包头市某公司", 3.0, "2024-01-02 08:00:00", None, "a"),
            (3, "", None, "2024-01-03 08:00:00", None, 2.5),
            (10, None, 1e20, "2024-01-10 08:00:00", None, None),
            (11, "赤峰市", 0.1, "2024-01-11 08:00:00", None, None),
        ],
    )
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_sqlite_table_in_batches(sqlite_url):
    ex = read_sql(sqlite_url, source="amr", stream="licenses", table="T_XK", cursor="ID", batch_rows=2)
    batches, rows = rows_of(ex)
    assert [b.num_rows for b in batches] == [2, 2, 1]
    assert batches[0].schema.names == ["ID", "QYMC", "JE", "GXSJ", "RAW", "MIXED"]
    assert rows[0] == {
        "ID": "1",
        "QYMC": "呼和浩特市某公司",
        "JE": "1.5",
        "GXSJ": "2024-01-01 08:00:00",
        "RAW": "00ff",
        "MIXED": "1",
    }
    assert [r["JE"] for r in rows] == ["1.5", "3", None, "100000000000000000000", "0.1"]
    assert [r["QYMC"] for r in rows][2:4] == ["", None]
    assert [r["MIXED"] for r in rows] == ["1", "a", "2.5", None, None]
    # Max over the typed integers: 11, although "2" > "11" as text.
    assert ex.high_watermark == "11"


def test_sqlite_incremental_integer_and_text_cursor(sqlite_url):
    ex = read_sql(sqlite_url, source="amr", stream="licenses", table="T_XK", cursor="ID", since="3")
    _, rows = rows_of(ex)
    assert [r["ID"] for r in rows] == ["10", "11"]
    ex = read_sql(
        sqlite_url, source="amr", stream="licenses", table="t_xk", cursor="gxsj", since="2024-01-03 08:00:00"
    )
    _, rows = rows_of(ex)
    assert [r["ID"] for r in rows] == ["10", "11"]
    assert ex.high_watermark == "2024-01-11 08:00:00"
    again = read_sql(
        sqlite_url, source="amr", stream="licenses", table="T_XK", cursor="GXSJ", since=ex.high_watermark
    )
    batches, rows = rows_of(again)
    assert rows == [] and batches[0].schema.names[0] == "ID"
    assert again.high_watermark is None


def test_sqlite_query(sqlite_url):
    ex = read_sql(
        sqlite_url,
        source="amr",
        stream="q",
        query="SELECT ID, QYMC FROM T_XK WHERE ID <> 10;",
        cursor="ID",
        since="1",
    )
    _, rows = rows_of(ex)
    assert rows == [
        {"ID": "2", "QYMC": "包头市某公司"},
        {"ID": "3", "QYMC": ""},
        {"ID": "11", "QYMC": "赤峰市"},
    ]
    assert ex.high_watermark == "11"


def test_sqlite_errors(sqlite_url, tmp_path):
    with pytest.raises(SourceError, match="amr.*licenses.*NO_SUCH_TABLE"):
        list(read_sql(sqlite_url, source="amr", stream="licenses", table="NO_SUCH_TABLE"))
    with pytest.raises(SourceError, match="cursor column 'NOPE'"):
        list(read_sql(sqlite_url, source="amr", stream="licenses", table="T_XK", cursor="NOPE", since="1"))
    with pytest.raises(SourceError, match="stream 'q'.*no such column"):
        list(read_sql(sqlite_url, source="amr", stream="q", query="SELECT NOPE FROM T_XK"))
    with pytest.raises(SourceError, match="not a plain identifier"):
        read_sql(sqlite_url, source="amr", stream="licenses", table="T_XK; DROP TABLE T_XK")
    with pytest.raises(SourceError, match="not a plain identifier"):
        read_sql(sqlite_url, source="amr", stream="licenses", table="a.b.c")
    with pytest.raises(SourceError, match="exactly one of table and query"):
        read_sql(sqlite_url, source="amr", stream="licenses", table="T_XK", query="SELECT 1")
    with pytest.raises(SourceError, match="file not found"):
        list(read_sql(f"sqlite:///{tmp_path / 'missing.db'}", source="amr", stream="licenses", table="T_XK"))
    assert not (tmp_path / "missing.db").exists()
    check_connection(sqlite_url, source="amr")


# ---------------------------------------------------------------- PostgreSQL




@pytest.fixture
def pg_table(pg_url):
    name = f"hub_conn_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.pool.NullPool
    )
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE {name} (id integer, d date, ts timestamp, tstz timestamptz, amount numeric(14,2),"
            " name text, flag boolean, raw bytea)"
        )
        conn.exec_driver_sql(
            f"""INSERT INTO {name} VALUES
            (1, '2024-01-01', '2024-01-01 08:00:00',    '2024-01-01 00:00:00+00',   1.50, '呼和浩特市', true, '\\x00ff'),
            (2, '2024-01-02', '2024-01-02 08:00:00.25', '2024-01-01 20:30:00+00',   12345678901.00, '包头市', false, NULL),
            (3, NULL,         '2024-01-03 08:00:00',    '2024-01-03 00:00:00.5+00', NULL, '鄂尔多斯市', NULL, NULL),
            (4, '2024-01-04', '2024-01-04 08:00:00',    '2024-01-04 00:00:00+00',   -0.01, '', true, NULL),
            (5, '2024-01-05', '2024-01-05 08:00:00',    '2024-01-05 00:00:00+00',   0, NULL, false, NULL)"""
        )
    yield pg_url, name
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    engine.dispose()


def test_pg_rendering_and_batches(pg_table):
    url, table = pg_table
    ex = read_sql(url, source="amr", stream="licenses", table=table, batch_rows=2)
    batches, rows = rows_of(ex)
    assert [b.num_rows for b in batches] == [2, 2, 1]
    rows.sort(key=lambda r: int(r["id"]))
    assert rows[0] == {
        "id": "1",
        "d": "2024-01-01",
        "ts": "2024-01-01 08:00:00",
        "tstz": "2024-01-01 08:00:00",
        "amount": "1.50",
        "name": "呼和浩特市",
        "flag": "true",
        "raw": "00ff",
    }
    assert rows[1]["ts"] == "2024-01-02 08:00:00.250000"
    assert rows[1]["tstz"] == "2024-01-02 04:30:00"  # UTC 20:30 the day before, in Beijing
    assert rows[1]["amount"] == "12345678901.00"
    assert rows[2]["tstz"] == "2024-01-03 08:00:00.500000"
    assert rows[2]["d"] is None and rows[2]["amount"] is None and rows[2]["flag"] is None
    assert [r["amount"] for r in rows[3:]] == ["-0.01", "0.00"]
    assert [r["name"] for r in rows[3:]] == ["", None]
    assert ex.high_watermark is None  # no cursor


def test_pg_incremental_timestamp(pg_table):
    url, table = pg_table
    ex = read_sql(
        url,
        source="amr",
        stream="licenses",
        table=table,
        cursor="ts",
        since="2024-01-02 08:00:00",
        batch_rows=2,
    )
    _, rows = rows_of(ex)
    assert sorted(r["id"] for r in rows) == ["2", "3", "4", "5"]  # strictly greater: .25 s counts
    assert ex.high_watermark == "2024-01-05 08:00:00"
    again = read_sql(url, source="amr", stream="licenses", table=table, cursor="ts", since=ex.high_watermark)
    assert rows_of(again)[1] == []


def test_pg_incremental_timestamptz_compares_in_beijing_time(pg_table):
    url, table = pg_table
    full = read_sql(url, source="amr", stream="licenses", table=table, cursor="tstz", batch_rows=2)
    assert len(rows_of(full)[1]) == 5
    assert full.high_watermark == "2024-01-05 08:00:00"
    ex = read_sql(
        url, source="amr", stream="licenses", table=table, cursor="tstz", since="2024-01-02 04:30:00"
    )
    assert sorted(r["id"] for r in rows_of(ex)[1]) == ["3", "4", "5"]
    ex = read_sql(
        url, source="amr", stream="licenses", table=table, cursor="tstz", since="2024-01-03 08:00:00"
    )
    assert sorted(r["id"] for r in rows_of(ex)[1]) == ["3", "4", "5"]  # 08:00:00.5 > 08:00:00
    ex = read_sql(
        url, source="amr", stream="licenses", table=table, cursor="tstz", since="2024-01-03 08:00:00.500000"
    )
    assert sorted(r["id"] for r in rows_of(ex)[1]) == ["4", "5"]
    again = read_sql(
        url, source="amr", stream="licenses", table=table, cursor="tstz", since=full.high_watermark
    )
    assert rows_of(again)[1] == []


def test_pg_incremental_integer_query_and_case_folding(pg_table):
    url, table = pg_table
    ex = read_sql(
        url, source="amr", stream="licenses", table=table.upper(), cursor="ID", since="2", batch_rows=1
    )
    batches, rows = rows_of(ex)
    assert len(batches) == 3 and sorted(r["id"] for r in rows) == ["3", "4", "5"]
    assert ex.high_watermark == "5"  # max over batches
    q = read_sql(
        url,
        source="amr",
        stream="q",
        query=f"SELECT id AS xh, name FROM {table} WHERE id <> 4",
        cursor="XH",
        since="1",
    )
    assert sorted(r["xh"] for r in rows_of(q)[1]) == ["2", "3", "5"]
    assert q.high_watermark == "5"
    colons = read_sql(
        url, source="amr", stream="q", query="SELECT '08:00'::text AS hm, ':x' AS c", cursor="hm", since="0"
    )
    assert rows_of(colons)[1] == [{"hm": "08:00", "c": ":x"}]


def test_pg_errors(pg_table):
    url, table = pg_table
    with pytest.raises(SourceError) as err:
        list(read_sql(url, source="amr", stream="licenses", table="hub_no_such_table"))
    assert (
        "'amr'" in str(err.value) and "'licenses'" in str(err.value) and "hub_no_such_table" in str(err.value)
    )
    with pytest.raises(SourceError, match="cursor column 'nope'"):
        list(read_sql(url, source="amr", stream="licenses", table=table, cursor="nope", since="1"))
    with pytest.raises(SourceError, match="nope"):
        list(read_sql(url, source="amr", stream="q", query=f"SELECT nope FROM {table}"))
    check_connection(url, source="amr")


def test_unreachable_database_hides_password():
    url = "postgresql://hub:s3cret-pw@127.0.0.1:1/test"
    started = time.monotonic()
    with pytest.raises(SourceError) as err:
        check_connection(url, source="amr")  # default retries: 3 attempts, 0.5 s then 1 s
    assert time.monotonic() - started >= 1.4
    text = str(err.value)
    assert "source 'amr'" in text and "3 attempts" in text and "hub:***@127.0.0.1:1" in text
    assert "s3cret-pw" not in text and "s3cret-pw" not in repr(err.value)
    assert err.value.__cause__ is None
    with pytest.raises(SourceError) as err:
        list(read_sql(url, source="amr", stream="licenses", table="t", retry_delays=FAST))
    assert "s3cret-pw" not in str(err.value) and "source 'amr'" in str(err.value)
    with pytest.raises(SourceError) as err:
        read_sql("postgresql://hub:s3cret-pw@127.0.0.1:notaport/test", source="amr", stream="x", table="t")
    assert "s3cret-pw" not in str(err.value)
    assert mask_url(url) == "postgresql://hub:***@127.0.0.1:1/test"


# ---------------------------------------------------------------- MariaDB


@pytest.fixture
def maria_table():
    engine = sa.create_engine(MARIADB_URL + "?charset=utf8mb4", poolclass=sa.pool.NullPool)
    try:
        engine.connect().close()
    except sa.exc.OperationalError:
        pytest.skip("no MariaDB at 127.0.0.1:3306/test")
    name = f"hub_conn_test_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.exec_driver_sql("SET time_zone = '+00:00'")
        conn.exec_driver_sql(
            f"CREATE TABLE {name} (id INT, qymc VARCHAR(50), gxsj DATETIME, ts TIMESTAMP NULL, je DECIMAL(12,2))"
            " CHARACTER SET utf8mb4"
        )
        conn.exec_driver_sql(
            f"""INSERT INTO {name} VALUES
            (1, '呼和浩特市𠀀', '2024-01-01 08:00:00', '2024-01-01 00:00:00', 1.50),
            (2, '包头市', '2024-01-02 08:00:00', '2024-01-01 20:30:00', NULL),
            (3, NULL, '2024-01-03 08:00:00', NULL, 100)"""
        )
    yield name
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    engine.dispose()


def test_mariadb_utf8mb4_and_incremental(maria_table):
    url = MARIADB_URL.replace("mysql+pymysql://", "mysql://")  # bare mysql:// maps to PyMySQL, utf8mb4
    ex = read_sql(url, source="tax", stream="permits", table=maria_table, batch_rows=2)
    batches, rows = rows_of(ex)
    assert [b.num_rows for b in batches] == [2, 1]
    rows.sort(key=lambda r: r["id"])
    assert rows[0] == {
        "id": "1",
        "qymc": "呼和浩特市𠀀",
        "gxsj": "2024-01-01 08:00:00",
        "ts": "2024-01-01 08:00:00",
        "je": "1.50",
    }
    assert rows[1]["ts"] == "2024-01-02 04:30:00"  # TIMESTAMP read in Beijing time
    assert rows[2]["qymc"] is None and rows[2]["je"] == "100.00"
    inc = read_sql(
        MARIADB_URL,
        source="tax",
        stream="permits",
        table=maria_table,
        cursor="gxsj",
        since="2024-01-01 08:00:00",
    )
    assert sorted(r["id"] for r in rows_of(inc)[1]) == ["2", "3"]
    assert inc.high_watermark == "2024-01-03 08:00:00"
    assert (
        rows_of(
            read_sql(
                url,
                source="tax",
                stream="permits",
                table=maria_table,
                cursor="gxsj",
                since=inc.high_watermark,
            )
        )[1]
        == []
    )
    with pytest.raises(SourceError, match="tax.*permits.*hub_no_such_table"):
        list(read_sql(url, source="tax", stream="permits", table="hub_no_such_table"))
