"""The vectorised check characters agree with the standards' examples and with the demo's own
pure-Python check characters, on whole Arrow vectors and inside the warehouse's SQL."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pyarrow as pa

from quality.check_digits import resident_id_ok, uscc_check_ok
from quality.row_rules import id_valid_sql, uscc_valid_sql
from tests.conftest import resident_id, uscc

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def test_uscc_examples_and_corruptions():
    codes = ["91350100M000100Y43", "91110000600037341L", "91350100M000100Y44", "91350100M000100Y4", None, ""]
    assert uscc_check_ok(pa.array(codes)).to_pylist() == [True, True, False, False, False, False]


def test_resident_id_examples_dates_and_corruptions():
    future = (date.today() + timedelta(days=40)).strftime("%Y%m%d")
    codes = [
        "11010519491231002X",  # GB 11643's example
        "11010519491231002Y",  # wrong check character
        resident_id("11010519000101002"),  # 1900-01-01, the earliest accepted
        resident_id("11010518991231002"),  # 1899
        resident_id("11010520230229002"),  # no 29 February in 2023
        resident_id("11010520240229002"),  # 2024 is a leap year
        resident_id("110105" + future + "002"),  # born in the future
        resident_id("11010519491331002"),  # month 13
        "1101051949123100AX",
        None,
    ]
    assert resident_id_ok(pa.array(codes)).to_pylist() == [
        True, False, True, False, False, True, False, False, False, False,
    ]


def test_agree_with_the_demo_check_characters_on_random_codes():
    rnd = random.Random(7)
    usccs, ids = [], []
    for _ in range(3000):
        body = "".join(rnd.choice(USCC_CHARS) for _ in range(17))
        good = uscc(body)
        usccs += [good, body + rnd.choice([c for c in USCC_CHARS if c != good[-1]])]
        born = date(1900, 1, 1) + timedelta(days=rnd.randrange(45000))
        id_body = f"{rnd.randrange(110000, 660000)}{born:%Y%m%d}{rnd.randrange(1000):03d}"
        good_id = resident_id(id_body)
        ids += [good_id, id_body + rnd.choice([c for c in "0123456789X" if c != good_id[-1]])]
    # Chunked, as DuckDB hands them over, with an offset into the second chunk.
    chunked = pa.chunked_array([pa.array(usccs[:1001]), pa.array(["pad"] + usccs[1001:]).slice(1)])
    assert uscc_check_ok(chunked).to_pylist() == [i % 2 == 0 for i in range(len(usccs))]
    sliced = pa.array(["x"] + ids).slice(1)
    assert resident_id_ok(sliced).to_pylist() == [i % 2 == 0 for i in range(len(ids))]


def test_row_rule_sql_calls_them_on_the_warehouse_connection(warehouse):
    rows = warehouse.execute(
        f"SELECT c, {uscc_valid_sql('c')}, {id_valid_sql('c')} FROM (VALUES ('91350100M000100Y43'),"
        " ('11010519491231002X'), ('91350100M000100Y44'), (NULL)) t(c) ORDER BY c NULLS LAST"
    ).fetchall()
    assert rows == [
        ("11010519491231002X", False, True),
        ("91350100M000100Y43", True, False),
        ("91350100M000100Y44", False, False),
        (None, None, None),
    ]


def test_each_distinct_code_tested_once_gives_what_every_row_gives(warehouse):
    """invalid_code_sql over the batch's distinct codes flags exactly the rows the row-wise test
    flags: repeated, invalid, wrong-length and NULL codes, several thousand rows (many vectors)."""
    from quality.row_rules import invalid_code_sql

    good_u, bad_u = "91350100M000100Y43", "91350100M000100Y44"
    good_id, bad_id = "11010519491231002X", "11010519491231002Y"
    codes = [good_u, bad_u, good_id, bad_id, None, "", "X" * 17, good_u.lower()] * 1500
    warehouse.execute("CREATE TEMP TABLE hub_codes_test (i INTEGER, c VARCHAR)")
    warehouse.executemany("INSERT INTO hub_codes_test VALUES (?, ?)", list(enumerate(codes)))
    for valid in (uscc_valid_sql, id_valid_sql):
        rows = warehouse.execute(
            f"SELECT i, COALESCE({invalid_code_sql('c', valid, 'hub_codes_test')}, false),"
            f" COALESCE({invalid_code_sql('c', valid, None)}, false) FROM hub_codes_test ORDER BY i"
        ).fetchall()
        assert [r[1] for r in rows] == [r[2] for r in rows]
        assert sum(r[1] for r in rows) == 6 * 1500  # all but the valid code and NULL (no finding)
