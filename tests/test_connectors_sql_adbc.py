"""connectors.sql's two engines for PostgreSQL (ADBC fast path, SQLAlchemy) against the local
PostgreSQL: the same batches, the same watermark, the same errors.

The benchmark at the bottom is not a test: run
``python tests/test_connectors_sql_adbc.py`` to time a full extract of 1,000,000 case rows
through each engine, each in a fresh subprocess.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors import sql as sql_mod
from connectors.errors import SourceError
from connectors.sql import read_sql
from tests.conftest import find_pg_url

ENGINES = ["adbc", "sqlalchemy"]
FAST = (0.05, 0.05)  # retry delays for tests that expect a connection failure

pytest.importorskip("adbc_driver_postgresql")


def _sa_engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.pool.NullPool)


ROWS = """
 (1, 10000000001, '2024-01-01', '2024-01-01 08:00:00',    '2024-01-01 00:00:00+00',   1.50,
     '呼和浩特市某某有限公司', '150102', true),
 (2, 10000000002, '2024-01-02', '2024-01-02 08:00:00.25', '2024-01-01 20:30:00+00',   1234567890.00,
     '包头市', '150203', false),
 (3, NULL,        NULL,         '2024-01-03 08:00:00',    '2024-01-03 00:00:00.5+00', NULL,
     '鄂尔多斯市', '1506', NULL),
 (4, 9223372036854775807, '2024-01-04', '2024-01-04 08:00:00', '2024-01-04 00:00:00+00', -0.01,
     '', '150402', true),
 (5, -1,          '2024-01-05', '2024-01-05 08:00:00',    '2024-01-05 00:00:00+00',   0,
     NULL, NULL, false),
 (10, 0,          '2024-01-10', '2024-01-10 08:00:00',    '2024-01-09 16:00:00+00',   99.90,
     '赤峰市 ', '150402', true),
 (11, 7,          '1999-12-31', '1999-12-31 23:59:59.999999', '1999-12-31 15:59:59.999999+00', 100,
     '乌兰察布市', '150902', false)
"""


@pytest.fixture
def pg_table(pg_url):
    """A fresh table with the types of a licensing source; yields (url, name)."""
    name = f"hub_adbc_test_{uuid.uuid4().hex[:12]}"
    engine = _sa_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE {name} (id integer, big bigint, d date, ts timestamp, tstz timestamptz,"
            " amount numeric(12,2), name text, region char(6), flag boolean)"
        )
        conn.exec_driver_sql(f"INSERT INTO {name} VALUES {ROWS}")
    yield pg_url, name
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    engine.dispose()


def run(url: str, engine: str, **kw):
    """Fully iterate an extract; the batches as (names, columns) and the extract."""
    kw.setdefault("source", "amr")
    kw.setdefault("stream", "licenses")
    ex = read_sql(url, engine=engine, **kw)
    batches = list(ex)
    for b in batches:
        assert all(t == pa.string() for t in b.schema.types)
    assert ex.engine == engine
    return [(b.schema.names, b.to_pydict()) for b in batches], ex


def rows_of(batches):
    return [dict(zip(names, values)) for names, cols in batches for values in zip(*cols.values())]


# ---------------------------------------------------------------- the two engines agree


READS = {
    "whole table": {"batch_rows": 3},
    "one batch": {"batch_rows": 50_000},
    "timestamp cursor": {"cursor": "ts", "since": "2024-01-02 08:00:00", "batch_rows": 2},
    "timestamptz cursor": {"cursor": "tstz", "since": "2024-01-02 04:30:00"},
    "integer cursor": {"cursor": "id", "since": "3"},
    "bigint cursor, no since": {"cursor": "big"},
    "numeric cursor": {"cursor": "amount", "since": "1.5"},
    "date cursor": {"cursor": "d", "since": "2024-01-02"},
    "text cursor": {"cursor": "name", "since": "包头市"},
    "char cursor": {"cursor": "region", "since": "150402"},
    "boolean cursor": {"cursor": "flag"},
    "nothing newer": {"cursor": "ts", "since": "2024-01-10 08:00:00"},
    "upper-case names": {"upper": True, "cursor": "TS", "since": "2024-01-01 08:00:00"},
    "schema.table": {"schema": True, "cursor": "id", "since": "4"},
    "query": {"query": "SELECT id AS xh, name, tstz FROM {t} WHERE id <> 4", "cursor": "XH", "since": "1"},
    "query with colons": {
        "query": "SELECT '08:00'::text AS hm, ':x' AS c, ts FROM {t}",
        "cursor": "ts",
        "since": "0001-01-01",
    },
    "quote in since": {"cursor": "name", "since": "x' OR '1'='1"},
    "backslash in since": {"cursor": "name", "since": "\\' OR true --"},
}


@pytest.mark.parametrize("read", list(READS), ids=list(READS))
def test_engines_give_identical_batches_and_watermark(pg_table, read):
    url, table = pg_table
    kw = dict(READS[read])
    if "query" in kw:
        kw["query"] = kw["query"].format(t=table)
    else:
        kw["table"] = table.upper() if kw.pop("upper", False) else table
        if kw.pop("schema", False):
            kw["table"] = f"public.{table}"
    fast, fast_ex = run(url, "adbc", **kw)
    slow, slow_ex = run(url, "sqlalchemy", **kw)
    assert fast == slow
    assert fast_ex.high_watermark == slow_ex.high_watermark
    assert fast_ex.columns == slow_ex.columns == fast[0][0]
    assert len(fast) >= 1


@pytest.mark.parametrize("engine", ENGINES)
def test_rendering(pg_table, engine):
    url, table = pg_table
    batches, ex = run(url, engine, table=table, batch_rows=3)
    assert [len(cols["id"]) for _, cols in batches] == [3, 3, 1]
    assert batches[0][0] == ["id", "big", "d", "ts", "tstz", "amount", "name", "region", "flag"]
    rows = {r["id"]: r for r in rows_of(batches)}
    assert rows["1"] == {
        "id": "1",
        "big": "10000000001",
        "d": "2024-01-01",
        "ts": "2024-01-01 08:00:00",
        "tstz": "2024-01-01 08:00:00",  # UTC midnight is 08:00 in Beijing
        "amount": "1.50",  # numeric keeps its scale
        "name": "呼和浩特市某某有限公司",
        "region": "150102",
        "flag": "true",
    }
    assert rows["2"]["ts"] == "2024-01-02 08:00:00.250000"
    assert rows["2"]["tstz"] == "2024-01-02 04:30:00"  # the day after, in Beijing
    assert rows["2"]["amount"] == "1234567890.00"
    assert rows["3"] == {
        "id": "3",
        "big": None,
        "d": None,
        "ts": "2024-01-03 08:00:00",
        "tstz": "2024-01-03 08:00:00.500000",
        "amount": None,
        "name": "鄂尔多斯市",
        "region": "1506  ",  # char(6): padded, as the driver gives it
        "flag": None,
    }
    assert rows["4"]["big"] == "9223372036854775807" and rows["4"]["amount"] == "-0.01"
    assert rows["4"]["name"] == "" and rows["5"]["name"] is None and rows["5"]["region"] is None
    assert rows["5"]["amount"] == "0.00" and rows["11"]["amount"] == "100.00"
    assert rows["10"]["name"] == "赤峰市 " and rows["10"]["tstz"] == "2024-01-10 00:00:00"
    assert rows["11"]["ts"] == "1999-12-31 23:59:59.999999"
    assert rows["11"]["tstz"] == "1999-12-31 23:59:59.999999"
    assert ex.high_watermark is None  # no cursor


@pytest.mark.parametrize("engine", ENGINES)
def test_incremental_timestamp(pg_table, engine):
    url, table = pg_table
    batches, ex = run(url, engine, table=table, cursor="ts", since="2024-01-02 08:00:00", batch_rows=2)
    # Strictly greater: 08:00:00.25 counts.
    assert sorted(int(r["id"]) for r in rows_of(batches)) == [2, 3, 4, 5, 10]
    assert ex.high_watermark == "2024-01-10 08:00:00"
    again, ex2 = run(url, engine, table=table, cursor="ts", since=ex.high_watermark)
    assert rows_of(again) == [] and again[0][0][0] == "id"  # an empty batch still names the columns
    assert ex2.high_watermark is None


@pytest.mark.parametrize("engine", ENGINES)
def test_incremental_timestamptz_in_beijing_time(pg_table, engine):
    url, table = pg_table
    full_batches, full = run(url, engine, table=table, cursor="tstz")
    assert len(rows_of(full_batches)) == 7
    assert full.high_watermark == "2024-01-10 00:00:00"  # UTC 16:00 the day before
    cases = {
        "2024-01-02 04:30:00": [3, 4, 5, 10],
        "2024-01-03 08:00:00": [3, 4, 5, 10],  # 08:00:00.5 > 08:00:00
        "2024-01-03 08:00:00.500000": [4, 5, 10],
        "2024-01-09 23:59:59": [10],
    }
    for since, ids in cases.items():
        batches, _ = run(url, engine, table=table, cursor="tstz", since=since)
        assert sorted(int(r["id"]) for r in rows_of(batches)) == ids, since
    assert rows_of(run(url, engine, table=table, cursor="tstz", since=full.high_watermark)[0]) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_incremental_integer(pg_table, engine):
    url, table = pg_table
    batches, ex = run(url, engine, table=table, cursor="id", since="3", batch_rows=1)
    assert [len(cols["id"]) for _, cols in batches] == [1, 1, 1, 1]
    assert sorted(int(r["id"]) for r in rows_of(batches)) == [4, 5, 10, 11]
    assert ex.high_watermark == "11"  # max over batches, as integers ("11" < "5" as text)
    batches, ex = run(url, engine, table=table, cursor="big", since="1")
    assert ex.high_watermark == "9223372036854775807"
    assert sorted(int(r["id"]) for r in rows_of(batches)) == [1, 2, 4, 11]


@pytest.mark.parametrize("engine", ENGINES)
def test_batch_sizes(pg_url, engine):
    query = "SELECT g AS id, 'x' || g AS t FROM generate_series(1, 3001) g"
    batches, ex = run(pg_url, engine, query=query, cursor="id", batch_rows=3)
    sizes = [len(cols["id"]) for _, cols in batches]
    assert set(sizes[:-1]) == {3} and sizes[-1] == 3001 % 3
    assert ex.high_watermark == "3001"
    # ~250 bytes a row: the ADBC driver returns batches of about 16 MB, so an output batch
    # of 100,000 rows is cut from several of the driver's batches.
    query = "SELECT g AS id, repeat('x', 240) || g AS t FROM generate_series(1, 250001) g"
    batches, _ = run(pg_url, engine, query=query, batch_rows=100_000)
    assert [len(cols["id"]) for _, cols in batches] == [100_000, 100_000, 50_001]
    assert [cols["id"][0] for _, cols in batches] == ["1", "100001", "200001"]
    assert batches[2][1]["t"][-1] == "x" * 240 + "250001"


def test_more_types_identical(pg_url):
    """Types beyond the licensing table's: both engines render them alike, watermarks too."""
    name = f"hub_adbc_types_{uuid.uuid4().hex[:12]}"
    engine = _sa_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE {name} (i smallint, f4 real, f8 double precision, n numeric, u uuid, b bytea,"
            " t time, v varchar(10), nm name)"
        )
        conn.exec_driver_sql(
            f"""INSERT INTO {name} VALUES
            (1, 1.1, 0.1, 1.50, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff', '12:30:00.5', '中文', 'x'),
            (2, 1e20, 1e20, 'NaN', 'ffffffff-9c0b-4ef8-bb6d-6bb9bd380a11', '', '23:59:59', ' a ', 'y'),
            (3, 1e-5, -2.5, '1e-20', NULL, NULL, NULL, '', NULL),
            (4, 123456789, 'NaN', '123456789012345678901234567890.123456789', NULL, NULL, '00:00:00', NULL, 'z'),
            (5, '-Infinity', 'Infinity', '-Infinity', NULL, NULL, NULL, NULL, NULL),
            (6, 3.4e38, 1.0000001, 'Infinity', NULL, NULL, NULL, NULL, NULL),
            (7, NULL, NULL, '0.000100', NULL, NULL, NULL, NULL, NULL)"""
        )
    try:
        fast, _ = run(pg_url, "adbc", table=name, batch_rows=4)
        slow, _ = run(pg_url, "sqlalchemy", table=name, batch_rows=4)
        assert fast == slow
        rows = rows_of(fast)
        assert [r["n"] for r in rows] == [
            "1.50", "NaN", "0.00000000000000000001", "123456789012345678901234567890.123456789",
            "-Infinity", "Infinity", "0.000100",
        ]  # fmt: skip
        assert [r["f4"] for r in rows][:3] == ["1.1", "100000000000000000000", "0.00001"]
        for cursor in ["i", "f4", "f8", "n", "u", "b", "t", "v", "nm"]:
            for q in (f"SELECT * FROM {name}", f"SELECT * FROM {name} WHERE i IN (1, 3, 4, 7)"):
                _, a = run(pg_url, "adbc", query=q, cursor=cursor)
                _, s = run(pg_url, "sqlalchemy", query=q, cursor=cursor)
                assert a.high_watermark == s.high_watermark, (cursor, q)
        _, a = run(pg_url, "adbc", query=f"SELECT * FROM {name} WHERE i IN (1, 3, 4, 7)", cursor="n")
        assert a.high_watermark == "123456789012345678901234567890.123456789"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        engine.dispose()


# ---------------------------------------------------------------- engine choice and fallback


def test_engine_choice(pg_url, tmp_path, monkeypatch):
    assert read_sql(pg_url, source="a", stream="s", table="t").engine == "adbc"
    assert read_sql(pg_url, source="a", stream="s", table="t", engine="sqlalchemy").engine == "sqlalchemy"
    sqlite_url = f"sqlite:///{tmp_path / 'x.db'}"
    assert read_sql(sqlite_url, source="a", stream="s", table="t").engine == "sqlalchemy"
    with pytest.raises(SourceError, match="engine 'adbc' reads PostgreSQL only, not sqlite"):
        read_sql(sqlite_url, source="a", stream="s", table="t", engine="adbc")
    with pytest.raises(SourceError, match="engine must be one of"):
        read_sql(pg_url, source="a", stream="s", table="t", engine="odbc")
    # ADBC not installed: the automatic choice is SQLAlchemy, a forced "adbc" is an error.
    monkeypatch.setattr(sql_mod, "adbc_available", lambda: False)
    assert read_sql(pg_url, source="a", stream="s", table="t").engine == "sqlalchemy"
    with pytest.raises(SourceError, match="adbc-driver-postgresql package"):
        read_sql(pg_url, source="a", stream="s", table="t", engine="adbc")


def test_fallback_when_the_driver_cannot_be_loaded(pg_table, monkeypatch):
    url, table = pg_table
    ex = read_sql(url, source="amr", stream="licenses", table=table, cursor="id")
    assert ex.engine == "adbc"
    import connectors

    monkeypatch.delattr(connectors, "sql_adbc", raising=False)
    monkeypatch.setitem(sys.modules, "connectors.sql_adbc", None)  # importing it now raises ImportError
    assert len(rows_of([(b.schema.names, b.to_pydict()) for b in ex])) == 7
    assert ex.engine == "sqlalchemy" and "cannot be loaded" in ex.fallback_reason
    assert ex.high_watermark == "11"


def test_unsupported_types_fall_back_or_fail(pg_url):
    query = (
        "SELECT 1 AS id, '{\"a\": 1.50}'::jsonb AS j, '1 mon 2 days'::interval AS iv,"
        " 12.5::money AS m, '10.0.0.1'::inet AS ip, ARRAY[1, 2] AS arr"
    )
    auto = read_sql(pg_url, source="amr", stream="q", query=query)
    assert auto.engine == "adbc"
    batches = list(auto)
    assert auto.engine == "sqlalchemy"
    for col in ("j (jsonb)", "iv (interval)", "m (money)", "ip (inet)", "arr (_int4)"):
        assert col in auto.fallback_reason
    slow, _ = run(pg_url, "sqlalchemy", source="amr", stream="q", query=query)
    assert [(b.schema.names, b.to_pydict()) for b in batches] == slow
    with pytest.raises(SourceError, match=r"stream 'q': engine 'adbc' does not render .*j \(jsonb\)"):
        list(read_sql(pg_url, source="amr", stream="q", query=query, engine="adbc"))


def test_unexpected_arrow_types_are_declined():
    """Should another driver version change a type's Arrow form (numeric as decimal128, say),
    the fast path declines instead of rendering it differently."""
    from connectors.sql_adbc import Declined, _plan

    def field(name, typ, pg):
        return pa.field(name, typ, metadata={b"POSTGRESQL:type": pg})

    assert len(_plan(pa.schema([field("a", pa.int32(), b"int4"), field("b", pa.string(), b"bpchar")]))) == 2
    with pytest.raises(Declined, match=r"n \(numeric\), i \(int4\), x \(string\)"):
        _plan(
            pa.schema(
                [
                    field("n", pa.decimal128(12, 2), b"numeric"),
                    field("i", pa.int64(), b"int4"),
                    ("x", pa.string()),
                ]
            )
        )


# ---------------------------------------------------------------- errors


def _error(url: str, engine: str, **kw) -> SourceError:
    with pytest.raises(SourceError) as err:
        list(read_sql(url, source="amr", stream="licenses", engine=engine, **kw))
    return err.value


def test_unreachable_database_same_message_password_masked():
    url = "postgresql://hub:s3cret-pw@127.0.0.1:1/test"
    messages = {}
    for engine in ENGINES:
        started = time.monotonic()
        err = _error(url, engine, table="t", retry_delays=(0.2, 0.3))
        assert time.monotonic() - started >= 0.5  # the retries were waited for
        text = str(err)
        assert "source 'amr'" in text and "3 attempts" in text and "Connection refused" in text
        assert "hub:***@127.0.0.1:1/test" in text
        assert "s3cret-pw" not in text and "s3cret-pw" not in repr(err) and err.__cause__ is None
        messages[engine] = text
    assert messages["adbc"] == messages["sqlalchemy"]


def test_bad_credentials_same_message(pg_url):
    url = "postgresql://hub_no_such_role:s3cret-pw@127.0.0.1:5432/test"
    errors = {engine: str(_error(url, engine, table="t", retry_delays=FAST)) for engine in ENGINES}
    assert errors["adbc"] == errors["sqlalchemy"]
    assert 'role "hub_no_such_role" does not exist' in errors["adbc"] and "s3cret-pw" not in errors["adbc"]
    url = pg_url.rsplit("/", 1)[0] + "/hub_no_such_db"
    errors = {engine: str(_error(url, engine, table="t", retry_delays=FAST)) for engine in ENGINES}
    assert (
        errors["adbc"] == errors["sqlalchemy"]
        and 'database "hub_no_such_db" does not exist' in errors["adbc"]
    )


def test_missing_table_and_other_errors_same_message(pg_table):
    url, table = pg_table
    cases = [
        {"table": "hub_no_such_table"},
        {"table": "nope.hub_no_such_table"},
        {"table": table, "cursor": "nope", "since": "1"},
        {"query": f"SELECT nope FROM {table}"},
        {"query": "SELECT 1 AS a, 2 AS a"},
        {"table": table, "cursor": "ts", "since": "not a timestamp"},
    ]
    for kw in cases:
        errors = {engine: _error(url, engine, **kw) for engine in ENGINES}
        assert str(errors["adbc"]) == str(errors["sqlalchemy"]), kw
    missing = str(_error(url, "adbc", table="hub_no_such_table"))
    assert missing == (
        "source 'amr', stream 'licenses': cannot read table hub_no_such_table from "
        f"{sql_mod.mask_url(sql_mod.normalize_url(url, source='amr'))}: "
        'relation "hub_no_such_table" does not exist'
    )
    # An error in the middle of the stream names the stream too.
    err = _error(url, "adbc", query="SELECT 1 / (g - 3) AS x FROM generate_series(1, 5) g")
    assert "stream 'licenses'" in str(err) and str(err).endswith("division by zero")


def test_libpq_uri_keeps_every_part():
    from connectors.sql_adbc import libpq_uri, pg_literal

    u = sql_mod.normalize_url(
        "postgresql+psycopg://us%40er:p%40ss%3Aw%2Frd%20x@db.example:6543/licensing%20db"
        "?sslmode=require&application_name=hub",
        source="a",
    )
    assert libpq_uri(u) == (
        "postgresql://us%40er:p%40ss%3Aw%2Frd%20x@db.example:6543/licensing%20db"
        "?sslmode=require&application_name=hub&connect_timeout=10"
    )
    u = sql_mod.normalize_url("postgresql://u@[::1]:5432/test?connect_timeout=3", source="a")
    assert libpq_uri(u) == "postgresql://u@[::1]:5432/test?connect_timeout=3"
    assert pg_literal("a'b") == "'a''b'" and pg_literal("a\\'b") == "E'a\\\\''b'"
    with pytest.raises(ValueError):
        pg_literal("a\x00b")


def test_password_with_special_characters_connects(pg_url):
    """The libpq URI carries an escaped password (ignored by trust authentication here)."""
    user_host = pg_url.split("://", 1)[1]
    user, rest = user_host.split("@", 1)
    url = f"postgresql://{user}:p%40ss%3Aw%2Frd@{rest}"
    batches, _ = run(url, "adbc", query="SELECT 1 AS one")
    assert rows_of(batches) == [{"one": "1"}]


@pytest.mark.skipif(
    not Path("/var/run/postgresql/.s.PGSQL.5432").exists(),
    reason="no PostgreSQL socket in /var/run/postgresql",
)
def test_unix_socket_url(pg_url):
    user = pg_url.split("://", 1)[1].split("@", 1)[0]
    url = f"postgresql:///test?host=/var/run/postgresql&user={user}"
    fast, _ = run(url, "adbc", query="SELECT current_user AS u, 1.50::numeric(4,2) AS n")
    slow, _ = run(url, "sqlalchemy", query="SELECT current_user AS u, 1.50::numeric(4,2) AS n")
    assert fast == slow == [(["u", "n"], {"u": [user], "n": ["1.50"]})]


def test_stopping_early_closes_the_connection(pg_url):
    ex = read_sql(
        pg_url, source="amr", stream="q", engine="adbc", batch_rows=10,
        query="SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 2000000) g",
    )  # fmt: skip
    started = time.monotonic()
    it = iter(ex)
    assert next(it).num_rows == 10
    it.close()  # abandons the COPY
    assert time.monotonic() - started < 5
    assert rows_of(run(pg_url, "adbc", query="SELECT 2 AS two")[0]) == [{"two": "2"}]


# ---------------------------------------------------------------- idle connections


def _backend_pid(url: str) -> str:
    rows = rows_of(run(url, "adbc", query="SELECT pg_backend_pid()::text AS pid")[0])
    return rows[0]["pid"]


def _terminate(url: str, pid: str) -> None:
    with _sa_engine(url).connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        conn.commit()


def test_a_finished_read_leaves_its_connection_for_the_next(pg_url):
    """Opening an ADBC connection costs ~45 ms: the next read of the same database reuses it."""
    from connectors import sql_adbc

    sql_adbc.close_idle_connections()
    first = _backend_pid(pg_url)
    assert _backend_pid(pg_url) == first
    sql_adbc.close_idle_connections()
    assert _backend_pid(pg_url) != first


def test_a_parked_connection_the_server_closed_is_replaced(pg_url):
    from connectors import sql_adbc

    sql_adbc.close_idle_connections()
    first = _backend_pid(pg_url)
    _terminate(pg_url, first)  # e.g. idle_session_timeout, a server restart
    second = _backend_pid(pg_url)  # no error: a new connection
    assert second != first
    assert _backend_pid(pg_url) == second


def test_an_old_parked_connection_is_not_used(pg_url, monkeypatch):
    from connectors import sql_adbc

    sql_adbc.close_idle_connections()
    first = _backend_pid(pg_url)
    monkeypatch.setattr(sql_adbc, "IDLE_SECONDS", 0.0)
    time.sleep(0.01)
    assert _backend_pid(pg_url) != first


def test_a_failed_or_abandoned_read_does_not_park_its_connection(pg_url):
    from connectors import sql_adbc

    sql_adbc.close_idle_connections()
    ex = read_sql(pg_url, source="amr", stream="q", engine="adbc", query="SELECT 1/0 AS boom")
    with pytest.raises(SourceError, match="division by zero"):
        list(ex)
    assert not sql_adbc._idle
    it = iter(read_sql(pg_url, source="amr", stream="q", engine="adbc", batch_rows=1,
                       query="SELECT g FROM generate_series(1, 10) g"))
    next(it)
    it.close()
    assert not sql_adbc._idle


def test_open_in_advance(pg_url):
    """`hub run` opens the connection while Dagster sets up; an unreachable server is left to the read."""
    from connectors import sql_adbc
    from connectors.sql import normalize_url

    sql_adbc.close_idle_connections()
    sql_adbc.open_in_advance(normalize_url(pg_url, source="amr"))
    (conn, _), = sql_adbc._idle.values()
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()::text")
        parked = cur.fetchone()[0]
    assert _backend_pid(pg_url) == parked
    sql_adbc.close_idle_connections()
    sql_adbc.open_in_advance(normalize_url("postgresql://nobody@127.0.0.1:1/none", source="amr"))
    assert not sql_adbc._idle


# ---------------------------------------------------------------- benchmark (not a test)

BENCH_TABLE = "hub_bench_adbc_cases"
BENCH_SQL = f"""
DROP TABLE IF EXISTS {BENCH_TABLE};
CREATE TABLE {BENCH_TABLE} (
  case_no text, matter_code text, applicant_code char(18), applicant_name text, region_code char(6),
  channel text, received_at timestamp, decided_at timestamp, decision text, promised_days integer,
  update_time timestamptz, fee numeric(12,2));
INSERT INTO {BENCH_TABLE}
SELECT 'NM' || to_char(g, 'FM0000000000'),
       'XK' || lpad((g % 997)::text, 5, '0'),
       '91150' || lpad((g % 1000000)::text, 12, '0') || 'X',
       (ARRAY['呼和浩特','包头','乌海','赤峰','通辽','鄂尔多斯','呼伦贝尔','巴彦淖尔','乌兰察布'])[1 + g % 9]
         || '市某某' || (g % 5000) || '号有限公司',
       (ARRAY['150102','150203','150302','150402','150502','150602','150702','150802','150902'])[1 + g % 9],
       (ARRAY['窗口','网上','自助终端','移动端'])[1 + g % 4],
       timestamp '2023-01-01 08:00:00' + g * interval '17 seconds',
       CASE WHEN g % 10 = 0 THEN NULL
            ELSE timestamp '2023-01-01 08:00:00' + g * interval '17 seconds' + (g % 20) * interval '1 day' END,
       CASE WHEN g % 10 = 0 THEN NULL WHEN g % 7 = 0 THEN '不予许可' ELSE '准予许可' END,
       (ARRAY[1, 3, 5, 10, 20])[1 + g % 5],
       timestamptz '2023-01-01 00:00:00+00' + g * interval '17 seconds' + (g % 1000) * interval '1 microsecond',
       CASE WHEN g % 3 = 0 THEN NULL ELSE ((g % 100000) / 100.0)::numeric(12,2) END
FROM generate_series(1, 1000000) g;
ANALYZE {BENCH_TABLE};
"""

_CHILD = """
import resource, sys, time
t0 = time.perf_counter()
from connectors.sql import read_sql
url, table, engine = sys.argv[1:4]
ex = read_sql(url, source="bench", stream="cases", table=table, cursor="update_time",
              batch_rows=50_000, engine=engine)
t1 = time.perf_counter()
rows = batches = 0
for b in ex:
    rows += b.num_rows
    batches += 1
t2 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print("|".join(map(str, (engine, rows, batches, round(t1 - t0, 2), round(t2 - t1, 2), rss, ex.high_watermark, ex.engine))))
"""


def _bench(runs: int = 3) -> None:
    import statistics
    import subprocess

    url = find_pg_url()
    if url is None:
        sys.exit("no PostgreSQL at 127.0.0.1:5432/test")
    engine = _sa_engine(url)
    started = time.monotonic()
    with engine.begin() as conn:
        conn.connection.driver_connection.execute(BENCH_SQL)  # psycopg itself: '%' is no placeholder
    print(f"created {BENCH_TABLE}: 1,000,000 rows × 12 columns in {time.monotonic() - started:.1f} s")
    root = Path(__file__).resolve().parents[1]
    results: dict[str, list[tuple[float, float, int]]] = {e: [] for e in ENGINES}
    try:
        for i in range(runs):
            for name in ENGINES if i % 2 == 0 else ENGINES[::-1]:
                started = time.monotonic()
                out = subprocess.run(
                    [sys.executable, "-c", _CHILD, url, BENCH_TABLE, name],
                    cwd=root, capture_output=True, text=True, check=True,
                ).stdout.strip().splitlines()[-1].split("|")  # fmt: skip
                wall = time.monotonic() - started
                _, rows, batches, imports, iterate, rss, watermark, used = out
                assert rows == "1000000" and used == name, out
                print(
                    f"  run {i + 1} {name:10} rows={rows} batches={batches} imports={imports}s "
                    f"iterate={iterate}s process={wall:.2f}s peak_rss={rss}MB watermark={watermark}"
                )
                results[name].append((float(iterate), wall, int(rss)))
        print("median of", runs, "runs:")
        for name, rs in results.items():
            print(
                f"  {name:10} iterate {statistics.median(r[0] for r in rs):.2f} s, "
                f"process {statistics.median(r[1] for r in rs):.2f} s, "
                f"peak RSS {statistics.median(r[2] for r in rs):.0f} MB"
            )
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {BENCH_TABLE}")
        engine.dispose()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    _bench(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
