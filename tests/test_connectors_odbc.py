"""connectors.odbc against real servers through unixODBC: the local PostgreSQL (psqlODBC) and
MariaDB (MariaDB Connector/ODBC), read both through arrow-odbc (fast) and pyodbc (fallback)."""

import os
import subprocess
import sys
import textwrap
import time
import uuid

import pyarrow as pa
import pytest

pyodbc = pytest.importorskip("pyodbc", reason="pyodbc cannot be loaded (is unixODBC installed?)")

from connectors import odbc  # noqa: E402
from connectors.errors import SourceError  # noqa: E402
from connectors.odbc import (  # noqa: E402
    check_odbc,
    mask_connection_string,
    odbc_connection_string,
    odbc_has_table,
    read_odbc,
)

PG_DRIVER = "PostgreSQL Unicode"
MARIADB_DRIVER = "MariaDB Unicode"
PG_CS = "DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=5432;DATABASE=test;UID=%s"
MARIADB_CS = "DRIVER={MariaDB Unicode};SERVER=127.0.0.1;PORT=3306;DATABASE=test;UID=root;PWD="
FAST = (0.05, 0.05)  # retry delays for tests that expect a connection failure

ROUTES = [
    pytest.param(True, id="arrow-odbc"),
    pytest.param(False, id="pyodbc"),
]


def needs_driver(name):
    if name not in pyodbc.drivers():
        pytest.skip(f"ODBC driver {name!r} is not installed (Debian: odbc-postgresql / odbc-mariadb)")


def needs_route(fast):
    if fast and not odbc.fast_path_available():
        pytest.skip("arrow-odbc is not installed")


def rows_of(extract):
    """All rows as dicts, checking the batch contract on the way."""
    batches = list(extract)
    for b in batches:
        assert all(t == pa.string() for t in b.schema.types)
    return batches, [row for b in batches for row in b.to_pylist()]


def ids(rows, key="id"):
    return sorted(int(r[key]) for r in rows)


# ---------------------------------------------------------------- connection strings


def test_connection_string_helpers():
    assert odbc_connection_string("amr_dm", None) == "DSN=amr_dm"
    assert odbc_connection_string(None, "DRIVER={X};SERVER=h") == "DRIVER={X};SERVER=h"
    with pytest.raises(SourceError, match="exactly one"):
        odbc_connection_string("a", "DSN=b")
    with pytest.raises(SourceError, match="exactly one"):
        odbc_connection_string(None, "")
    assert mask_connection_string("DRIVER={PostgreSQL Unicode};UID=hub;PWD=s3cret") == (
        "DRIVER={PostgreSQL Unicode};UID=hub;PWD=***"
    )
    masked = mask_connection_string("Driver={X};Uid=a;Password={se;cr}}et};TLSKEYPWD=k3y")
    assert "se;cr" not in masked and "k3y" not in masked and masked.count("***") == 2
    assert mask_connection_string("PWD={unclosed") == "<unparsable connection string>"
    with pytest.raises(SourceError) as err:
        read_odbc("DRIVER={X};PWD={s3cret-pw", source="amr", stream="x", table="t")
    assert "s3cret-pw" not in str(err.value) and "source 'amr'" in str(err.value)


def test_driver_defaults_are_added_only_when_absent():
    pg = odbc._Target("DRIVER={PostgreSQL Unicode};SERVER=h;Fetch=10;commlog=1", source="s", stream=None)
    text = pg.for_driver(odbc.PG, 500)
    assert "UseDeclareFetch=1" in text and "BoolsAsChar=0" in text
    assert "Fetch=10" in text and "Fetch=500" not in text  # the user's value wins
    assert "commlog=1" in text and "CommLog=0" not in text
    maria = odbc._Target("DRIVER={MariaDB Unicode};SERVER=h", source="s", stream=None)
    assert maria.for_driver(odbc.MYSQL, 500).endswith(";CHARSET=utf8mb4")
    other = odbc._Target("DRIVER={DM8 ODBC DRIVER};SERVER=h", source="s", stream=None)
    assert other.for_driver(None, 500) == "DRIVER={DM8 ODBC DRIVER};SERVER=h"


def test_identifiers_are_validated():
    for bad in ("T_XK; DROP TABLE T_XK", "a.b.c", 'x"y', "t`"):
        with pytest.raises(SourceError, match="not a plain identifier"):
            read_odbc("DSN=x", source="amr", stream="licenses", table=bad)
    with pytest.raises(SourceError, match="not a plain identifier"):
        read_odbc("DSN=x", source="amr", stream="licenses", table="t", cursor="a b")
    with pytest.raises(SourceError, match="exactly one of table and query"):
        read_odbc("DSN=x", source="amr", stream="licenses", table="t", query="SELECT 1")
    with pytest.raises(SourceError, match="batch_rows"):
        read_odbc("DSN=x", source="amr", stream="licenses", table="t", batch_rows=0)


def test_mysql_time_text():
    assert odbc._time_text("08:30:00") == "08:30:00"
    assert odbc._time_text("08:30:00.000000") == "08:30:00"
    assert odbc._time_text("-838:59:59.250") == "-838:59:59.250000"


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg_cs():
    needs_driver(PG_DRIVER)
    for user in ("postgres", "root"):
        cs = PG_CS % user
        try:
            pyodbc.connect(cs + ";CommLog=0", timeout=5).close()
            return cs
        except pyodbc.Error:
            continue
    pytest.skip("no PostgreSQL at 127.0.0.1:5432/test")


def pg_exec(cs, *statements):
    conn = pyodbc.connect(cs + ";CommLog=0", autocommit=True)
    try:
        for s in statements:
            conn.execute(s)
    finally:
        conn.close()


@pytest.fixture
def pg_table(pg_cs):
    name = f"hub_odbc_test_{uuid.uuid4().hex[:12]}"
    pg_exec(
        pg_cs,
        f"CREATE TABLE {name} (id integer, d date, ts timestamp, tstz timestamptz, amount numeric(14,2),"
        " name text, flag boolean, raw bytea, ratio double precision, code char(6), exact numeric)",
        f"""INSERT INTO {name} VALUES
        (1, '2024-01-01', '2024-01-01 08:00:00',    '2024-01-01 00:00:00+00',   1.50, '呼和浩特市', true, '\\x00ff', 0.1, '150102', 3.14159265358979323846),
        (2, '2024-01-02', '2024-01-02 08:00:00.25', '2024-01-01 20:30:00+00',   12345678901.00, '包头市', false, NULL, 1e20, '150200', -0.000001),
        (3, NULL,         '2024-01-03 08:00:00',    '2024-01-03 00:00:00.5+00', NULL, '鄂尔多斯市𠀀', NULL, NULL, NULL, NULL, NULL),
        (4, '2024-01-04', '2024-01-04 08:00:00',    '2024-01-04 00:00:00+00',   -0.01, '', true, NULL, -2.5, '15', 'NaN'),
        (5, '2024-01-05', '2024-01-05 08:00:00',    '2024-01-05 00:00:00+00',   0, NULL, false, NULL, 3, '150600', 100)""",
    )
    yield pg_cs, name
    pg_exec(pg_cs, f"DROP TABLE IF EXISTS {name}")


@pytest.mark.parametrize("fast", ROUTES)
def test_pg_rendering_and_batches(pg_table, fast):
    needs_route(fast)
    cs, table = pg_table
    ex = read_odbc(cs, source="amr", stream="licenses", table=table, batch_rows=2, fast=fast)
    batches, rows = rows_of(ex)
    assert ex.route == ("arrow-odbc" if fast else "pyodbc")
    assert [b.num_rows for b in batches] == [2, 2, 1]
    assert batches[0].schema.names == [
        *("id", "d", "ts", "tstz", "amount", "name", "flag", "raw", "ratio", "code", "exact"),
    ]
    rows.sort(key=lambda r: int(r["id"]))
    assert rows[0] == {
        "id": "1",
        "d": "2024-01-01",
        "ts": "2024-01-01 08:00:00",
        "tstz": "2024-01-01 08:00:00",  # UTC midnight is 08:00 in Beijing
        "amount": "1.50",
        "name": "呼和浩特市",
        "flag": "true",
        "raw": "00ff",
        "ratio": "0.1",
        "code": "150102",
        "exact": "3.14159265358979323846",  # numeric without precision: every digit kept
    }
    assert rows[1]["ts"] == "2024-01-02 08:00:00.250000"
    assert rows[1]["tstz"] == "2024-01-02 04:30:00"  # UTC 20:30 the day before, in Beijing
    assert rows[1]["amount"] == "12345678901.00" and rows[1]["flag"] == "false"
    assert rows[1]["ratio"] == "100000000000000000000"
    assert rows[2]["name"] == "鄂尔多斯市𠀀"
    assert rows[2]["tstz"] == "2024-01-03 08:00:00.500000"
    assert all(rows[2][k] is None for k in ("d", "amount", "flag", "raw", "ratio", "code"))
    assert [r["amount"] for r in rows[3:]] == ["-0.01", "0.00"]
    assert [r["exact"] for r in rows] == ["3.14159265358979323846", "-0.000001", None, "NaN", "100"]
    assert [r["name"] for r in rows[3:]] == ["", None]
    assert rows[3]["code"] == "15    "  # char(n) keeps its padding, as on every driver
    assert ex.high_watermark is None  # no cursor


@pytest.mark.parametrize("fast", ROUTES)
def test_pg_incremental_timestamp(pg_table, fast):
    needs_route(fast)
    cs, table = pg_table
    ex = read_odbc(
        cs,
        source="amr",
        stream="licenses",
        table=table,
        cursor="ts",
        since="2024-01-02 08:00:00",
        batch_rows=2,
        fast=fast,
    )
    _, rows = rows_of(ex)
    assert ids(rows) == [2, 3, 4, 5]  # strictly greater: .25 s counts
    assert ex.high_watermark == "2024-01-05 08:00:00"
    again = read_odbc(cs, source="amr", stream="licenses", table=table, cursor="ts", since=ex.high_watermark, fast=fast)
    batches, rows = rows_of(again)
    assert rows == [] and batches[0].schema.names[0] == "id"
    assert again.high_watermark is None


@pytest.mark.parametrize("fast", ROUTES)
def test_pg_incremental_timestamptz_in_beijing_time(pg_table, fast):
    needs_route(fast)
    cs, table = pg_table
    full = read_odbc(cs, source="amr", stream="licenses", table=table, cursor="tstz", batch_rows=2, fast=fast)
    assert len(rows_of(full)[1]) == 5
    assert full.high_watermark == "2024-01-05 08:00:00"
    for since, expected in [
        ("2024-01-02 04:30:00", [3, 4, 5]),
        ("2024-01-03 08:00:00", [3, 4, 5]),  # 08:00:00.5 > 08:00:00
        ("2024-01-03 08:00:00.500000", [4, 5]),
        (full.high_watermark, []),
    ]:
        ex = read_odbc(cs, source="amr", stream="licenses", table=table, cursor="tstz", since=since, fast=fast)
        assert ids(rows_of(ex)[1]) == expected, since


@pytest.mark.parametrize("fast", ROUTES)
def test_pg_incremental_integer_query_and_case_folding(pg_table, fast):
    needs_route(fast)
    cs, table = pg_table
    ex = read_odbc(
        cs,
        source="amr",
        stream="licenses",
        table=table.upper(),
        cursor="ID",
        since="2",
        batch_rows=1,
        fast=fast,
    )
    batches, rows = rows_of(ex)
    assert len(batches) == 3 and ids(rows) == [3, 4, 5]
    assert ex.high_watermark == "5"  # max over batches
    ex = read_odbc(
        cs, source="amr", stream="licenses", table=f"public.{table}", cursor="amount", since="1.5", fast=fast
    )
    _, rows = rows_of(ex)
    assert ids(rows) == [2] and ex.high_watermark == "12345678901.00"  # numeric max, scale kept
    q = read_odbc(
        cs,
        source="amr",
        stream="q",
        query=f"SELECT id AS xh, name FROM {table} WHERE id <> 4;",
        cursor="XH",
        since="1",
        fast=fast,
    )
    assert ids(rows_of(q)[1], "xh") == [2, 3, 5]
    assert q.high_watermark == "5"
    default = read_odbc(cs, source="amr", stream="licenses", table=table, cursor="exact")
    assert len(rows_of(default)[1]) == 5 and default.high_watermark == "100"  # NaN is not a maximum
    assert default.route == ("arrow-odbc" if odbc.fast_path_available() else "pyodbc")
    colons = read_odbc(cs, source="amr", stream="q", query="SELECT '08:00'::text AS hm, ':x' AS c", fast=fast)
    assert rows_of(colons)[1] == [{"hm": "08:00", "c": ":x"}]


@pytest.mark.parametrize("fast", ROUTES)
def test_pg_errors(pg_table, fast):
    needs_route(fast)
    cs, table = pg_table
    with pytest.raises(SourceError) as err:
        list(read_odbc(cs, source="amr", stream="licenses", table="hub_no_such_table", fast=fast))
    text = str(err.value)
    assert "'amr'" in text and "'licenses'" in text and "hub_no_such_table" in text
    with pytest.raises(SourceError, match="cursor column 'nope'"):
        list(read_odbc(cs, source="amr", stream="licenses", table=table, cursor="nope", since="1", fast=fast))
    with pytest.raises(SourceError, match="stream 'q'.*nope"):
        list(read_odbc(cs, source="amr", stream="q", query=f"SELECT nope FROM {table}", fast=fast))
    with pytest.raises(SourceError, match="duplicate column names"):
        list(read_odbc(cs, source="amr", stream="q", query=f"SELECT id, id FROM {table}", fast=fast))
    check_odbc(cs, source="amr")
    assert odbc_has_table(cs, table, source="amr")
    assert odbc_has_table(cs, table.upper(), source="amr")
    assert odbc_has_table(cs, f"public.{table}", source="amr")
    assert not odbc_has_table(cs, "hub_no_such_table", source="amr")


def test_pg_long_text_falls_back_to_pyodbc(pg_cs, monkeypatch):
    """arrow-odbc binds a fixed buffer per value: a longer value makes the automatic mode read
    through pyodbc (before any batch was handed out), and fast=True fail clearly."""
    needs_route(True)
    name = f"hub_odbc_test_{uuid.uuid4().hex[:12]}"
    pg_exec(
        pg_cs,
        f"CREATE TABLE {name} (id integer, body text)",
        f"INSERT INTO {name} SELECT g, CASE WHEN g = 5 THEN repeat('长', 20000) ELSE '短' END"
        " FROM generate_series(1, 5) g",
    )
    try:
        auto = read_odbc(pg_cs, source="amr", stream="s", table=name, cursor="id")
        _, rows = rows_of(auto)
        assert auto.route == "pyodbc" and "truncation" in auto.fast_failure
        assert max(len(r["body"]) for r in rows) == 20000 and auto.high_watermark == "5"
        with pytest.raises(SourceError, match="arrow-odbc cannot read table"):
            list(read_odbc(pg_cs, source="amr", stream="s", table=name, fast=True))
        # Found only after a first batch was handed out: a clear error, and the same extract
        # reads through pyodbc when iterated again (the caller's load is transactional).
        late = read_odbc(pg_cs, source="amr", stream="s", query=f"SELECT * FROM {name} ORDER BY id", batch_rows=2)
        with pytest.raises(SourceError, match="failed after 4 rows.*fast=False"):
            list(late)
        _, rows = rows_of(late)
        assert late.route == "pyodbc" and len(rows) == 5
        # Without arrow-odbc installed, the automatic mode is pyodbc.
        monkeypatch.setattr(odbc, "_arrow_odbc", lambda: None)
        plain = read_odbc(pg_cs, source="amr", stream="s", table=name)
        assert len(rows_of(plain)[1]) == 5 and plain.route == "pyodbc"
    finally:
        pg_exec(pg_cs, f"DROP TABLE IF EXISTS {name}")


def test_pg_through_a_dsn(pg_cs, tmp_path):
    """A DSN from odbc.ini: psqlODBC is recognised through the DSN's driver (own process: the
    driver manager reads ODBCINI once)."""
    user = pg_cs.rsplit("UID=", 1)[1]
    ini = tmp_path / "odbc.ini"
    ini.write_text(
        f"[hub_test_pg]\nDriver={PG_DRIVER}\nServername=127.0.0.1\nPort=5432\nDatabase=test\nUsername={user}\n"
    )
    script = textwrap.dedent(
        """
        from connectors.odbc import read_odbc, odbc_connection_string
        ex = read_odbc(odbc_connection_string("hub_test_pg", None), source="amr", stream="s",
                       query="SELECT true AS flag, '呼和浩特' AS name, now() > '2000-01-01' AS recent")
        print([b.to_pylist() for b in ex], ex.route)
        """
    )
    env = dict(os.environ, ODBCINI=str(ini))
    out = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert out.returncode == 0, out.stderr
    assert "[[{'flag': 'true', 'name': '呼和浩特', 'recent': 'true'}]]" in out.stdout


def test_unreachable_server_hides_password():
    needs_driver(PG_DRIVER)
    cs = "DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=1;DATABASE=test;UID=hub;PWD=s3cret-pw"
    started = time.monotonic()
    with pytest.raises(SourceError) as err:
        check_odbc(cs, source="amr")  # default retries: 3 attempts, 0.5 s then 1 s
    assert time.monotonic() - started >= 1.4
    text = str(err.value)
    assert "source 'amr'" in text and "3 attempts" in text and "PWD=***" in text and "PORT=1" in text
    assert "s3cret-pw" not in text and "s3cret-pw" not in repr(err.value)
    assert err.value.__cause__ is None
    for fast in (None, False):
        with pytest.raises(SourceError) as err:
            list(read_odbc(cs, source="amr", stream="licenses", table="t", retry_delays=FAST, fast=fast))
        assert "s3cret-pw" not in str(err.value) and "source 'amr', stream 'licenses'" in str(err.value)
    braced = "DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=1;UID=hub;PWD={s3cret;pw}"
    with pytest.raises(SourceError) as err:
        check_odbc(braced, source="amr", retry_delays=())
    assert "s3cret" not in str(err.value) and "1 attempt" in str(err.value)
    with pytest.raises(SourceError) as err:
        odbc_has_table(braced, "t", source="amr")
    assert "s3cret" not in str(err.value)


def test_unknown_driver_and_dsn():
    started = time.monotonic()
    with pytest.raises(SourceError) as err:
        list(read_odbc("DRIVER={No Such Driver};SERVER=h;PWD=s3cret-pw", source="amr", stream="licenses", table="t"))
    text = str(err.value)
    assert "source 'amr', stream 'licenses'" in text and "'No Such Driver' is not installed" in text
    assert "s3cret-pw" not in text and "PWD=***" in text
    with pytest.raises(SourceError, match="source 'amr'.*'hub_no_such_dsn' is not defined"):
        check_odbc("DSN=hub_no_such_dsn;PWD=s3cret-pw", source="amr")
    # A driver given by a path that cannot be loaded: the driver manager's error, not retried.
    with pytest.raises(SourceError) as err:
        check_odbc("DRIVER=/nonexistent/libnothing.so;PWD=s3cret-pw", source="amr")
    assert "1 attempt" in str(err.value) and "s3cret-pw" not in str(err.value)
    assert time.monotonic() - started < 1.4  # none of these waits for retries (0.5 s + 1 s)


# ---------------------------------------------------------------- MariaDB


@pytest.fixture(scope="module")
def maria_cs():
    needs_driver(MARIADB_DRIVER)
    try:
        pyodbc.connect(MARIADB_CS, timeout=5).close()
    except pyodbc.Error:
        pytest.skip("no MariaDB at 127.0.0.1:3306/test")
    return MARIADB_CS


@pytest.fixture
def maria_tables(maria_cs):
    name = f"hub_odbc_test_{uuid.uuid4().hex[:12]}"
    conn = pyodbc.connect(maria_cs + ";CHARSET=utf8mb4", autocommit=True)
    conn.execute("SET time_zone = '+00:00'")
    conn.execute(
        f"CREATE TABLE {name} (id INT, qymc VARCHAR(50), gxsj DATETIME(6), ts TIMESTAMP NULL, je DECIMAL(12,2),"
        " fzrq DATE, n INT UNSIGNED, big BIGINT UNSIGNED, flags BIT(3), ok BOOL, ratio FLOAT)"
        " DEFAULT CHARSET=utf8mb4"
    )
    conn.execute(
        f"""INSERT INTO {name} VALUES
        (1, '呼和浩特市𠀀', '2024-01-01 08:00:00', '2024-01-01 00:00:00', 1.50, '2024-01-01', 4294967295,
            18446744073709551615, b'101', TRUE, 0.5),
        (2, '包头市', '2024-01-02 08:00:00.25', '2024-01-01 20:30:00', NULL, NULL, 0, 0, b'000', FALSE, NULL),
        (3, NULL, '2024-01-03 08:00:00', NULL, 100, '2024-01-03', NULL, NULL, NULL, NULL, NULL)"""
    )
    conn.execute(f"CREATE TABLE {name}_time (id INT, hm TIME(3))")
    conn.execute(f"INSERT INTO {name}_time VALUES (1, '-838:59:59'), (2, '08:30:00'), (3, '08:30:00.25'), (4, NULL)")
    conn.execute(f"CREATE TABLE {name}_gbk (id INT, qymc VARCHAR(50)) DEFAULT CHARSET=gbk")
    conn.execute(f"INSERT INTO {name}_gbk VALUES (1, '鄂尔多斯市某某有限公司'), (2, '锡林郭勒盟')")
    conn.close()
    yield maria_cs, name
    conn = pyodbc.connect(maria_cs, autocommit=True)
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute(f"DROP TABLE IF EXISTS {name}_gbk")
    conn.execute(f"DROP TABLE IF EXISTS {name}_time")
    conn.close()


@pytest.mark.parametrize("fast", ROUTES)
def test_mariadb_types_utf8mb4_and_gbk(maria_tables, fast):
    needs_route(fast)
    cs, table = maria_tables
    ex = read_odbc(cs, source="tax", stream="permits", table=table, batch_rows=2, fast=fast)
    batches, rows = rows_of(ex)
    assert ex.route == ("arrow-odbc" if fast else "pyodbc")
    assert [b.num_rows for b in batches] == [2, 1]
    rows.sort(key=lambda r: int(r["id"]))
    assert rows[0] == {
        "id": "1",
        "qymc": "呼和浩特市𠀀",
        "gxsj": "2024-01-01 08:00:00",
        "ts": "2024-01-01 08:00:00",  # TIMESTAMP read in Beijing time
        "je": "1.50",
        "fzrq": "2024-01-01",
        "n": "4294967295",  # UNSIGNED values do not wrap around
        "big": "18446744073709551615",
        "flags": "05",
        "ok": "1",
        "ratio": "0.5",
    }
    assert rows[1]["gxsj"] == "2024-01-02 08:00:00.250000"
    assert rows[1]["ts"] == "2024-01-02 04:30:00"
    assert rows[1]["flags"] == "00" and rows[1]["ok"] == "0" and rows[1]["n"] == "0"
    assert rows[2]["qymc"] is None and rows[2]["je"] == "100.00" and rows[2]["ts"] is None
    gbk = read_odbc(cs, source="tax", stream="permits", table=f"test.{table}_gbk", fast=fast)
    assert [r["qymc"] for r in rows_of(gbk)[1]] == ["鄂尔多斯市某某有限公司", "锡林郭勒盟"]


@pytest.mark.parametrize("fast", ROUTES)
def test_mariadb_incremental_and_errors(maria_tables, fast):
    needs_route(fast)
    cs, table = maria_tables
    inc = read_odbc(
        cs,
        source="tax",
        stream="permits",
        table=table.upper(),
        cursor="GXSJ",
        since="2024-01-01 08:00:00",
        fast=fast,
    )
    assert ids(rows_of(inc)[1]) == [2, 3]
    assert inc.high_watermark == "2024-01-03 08:00:00"
    again = read_odbc(
        cs, source="tax", stream="permits", table=table, cursor="gxsj", since=inc.high_watermark, fast=fast
    )
    assert rows_of(again)[1] == []
    by_id = read_odbc(cs, source="tax", stream="permits", table=table, cursor="id", since="1", batch_rows=1, fast=fast)
    assert ids(rows_of(by_id)[1]) == [2, 3] and by_id.high_watermark == "3"
    unsigned = read_odbc(cs, source="tax", stream="permits", table=table, cursor="big", fast=fast)
    rows_of(unsigned)
    assert unsigned.high_watermark == "18446744073709551615"  # typed max, not text max
    with pytest.raises(SourceError, match="tax.*permits.*hub_no_such_table"):
        list(read_odbc(cs, source="tax", stream="permits", table="hub_no_such_table", fast=fast))
    check_odbc(cs, source="tax")
    assert odbc_has_table(cs, table.upper(), source="tax")
    assert odbc_has_table(cs, f"test.{table}", source="tax")
    assert not odbc_has_table(cs, "hub_no_such_table", source="tax")


def test_mariadb_time_is_a_duration(maria_tables):
    """MySQL TIME goes beyond 24 h: arrow-odbc cannot bind it, pyodbc reads the driver's text."""
    cs, table = maria_tables
    auto = read_odbc(cs, source="tax", stream="permits", table=f"{table}_time")
    _, rows = rows_of(auto)
    assert [r["hm"] for r in rows] == ["-838:59:59", "08:30:00", "08:30:00.250000", None]
    assert auto.route == ("pyodbc")
    if odbc.fast_path_available():
        assert "MySQL TIME" in auto.fast_failure
        with pytest.raises(SourceError, match="arrow-odbc cannot read.*'hm' is a MySQL TIME"):
            list(read_odbc(cs, source="tax", stream="permits", table=f"{table}_time", fast=True))
