"""Normalisation and row rules of model.md, run set-based inside a real DuckDB warehouse."""

from __future__ import annotations

import datetime as dt

from tests.conftest import DEPT, load, resident_id, stream, uscc

HOLDER = uscc("91150100MA0000001")
PERSON = resident_id("15010219850101123")


def reasons(con, entity):
    return sorted(
        (r[0], r[1]) for r in con.execute(
            "SELECT _source_key, reason FROM quality.quarantine WHERE entity = $1", [entity]).fetchall()
    )


def test_every_date_form_of_the_model(with_refs):
    st = stream("license", {
        "license_no": "ID", "holder_code": "H", "issuing_dept_code": {"value": DEPT},
        "issued_on": "D", "valid_to": {"column": "X", "format": "excel"},
    })
    forms = ["2024-03-05", "20240305", "2024/3/5", "2024.3.5", "2024年3月5日", "2024-03-05T23:30:00+00:00"]
    expected = [dt.date(2024, 3, 5)] * 5 + [dt.date(2024, 3, 6)]  # 23:30 UTC is 07:30 next day in Beijing
    n = len(forms)
    result = load(with_refs, st, {
        "ID": [f"L{i}" for i in range(n)], "H": [HOLDER] * n, "D": forms, "X": ["45356"] * n,
    })
    assert (result.extracted, result.loaded, result.quarantined) == (n, n, 0)
    got = dict(with_refs.execute("SELECT license_no, issued_on FROM core.license").fetchall())
    assert [got[f"L{i}"] for i in range(n)] == expected
    assert {r[0] for r in with_refs.execute("SELECT valid_to FROM core.license").fetchall()} == {dt.date(2024, 3, 5)}


def test_impossible_dates_and_unmapped_codes_are_quarantined(with_refs):
    st = stream("license", {
        "license_no": "ID", "holder_code": "H", "issuing_dept_code": {"value": DEPT}, "issued_on": "D",
        "status": {"column": "S", "map": {"1": "valid"}, "default": "valid"},
    })
    result = load(with_refs, st, {
        "ID": ["A", "B", "C", "D"], "H": [HOLDER] * 4,
        "D": ["2023-02-29", "2023年13月1日", "20230101", "20230101"], "S": ["1", "1", "9", ""],
    })
    assert (result.extracted, result.loaded, result.quarantined) == (4, 1, 3)
    assert reasons(with_refs, "license") == [("A", "bad_date"), ("B", "bad_date"), ("C", "enum_value")]
    assert with_refs.execute("SELECT status FROM core.license WHERE license_no = 'D'").fetchone()[0] == "valid"


def test_codes_fold_full_width_and_blanks(with_refs):
    st = stream("license", {"license_no": "ID", "holder_code": "H", "issuing_dept_code": {"value": DEPT},
                            "issued_on": "D", "holder_name": "N"})
    load(with_refs, st, {"ID": ["ＪＳ１５０１ ００１"], "H": [HOLDER.lower()], "D": ["2024-01-01"],
                         "N": ["  呼和浩特市　某某   公司 "]})
    row = with_refs.execute("SELECT license_no, holder_code, holder_name FROM core.license").fetchone()
    assert row == ("JS1501001", HOLDER, "呼和浩特市 某某 公司")
    # raw keeps the source spelling
    assert with_refs.execute("SELECT \"ID\" FROM raw.t__license").fetchone()[0] == "ＪＳ１５０１ ００１"


def test_party_codes_uscc_and_resident_id(with_refs):
    st = stream("case", {
        "case_no": "ID", "matter_code": "M", "applicant_code": "A", "received_at": "T",
        "applicant_type": {"column": "P", "map": {"1": "legal_person", "2": "natural_person"}},
        "region_code": "R",
    })
    bad_uscc = HOLDER[:-1] + ("0" if HOLDER[-1] != "0" else "1")
    bad_id = PERSON[:-1] + ("0" if PERSON[-1] != "0" else "1")
    result = load(with_refs, st, {
        "ID": ["C1", "C2", "C3", "C4", "C5", "C6"],
        "M": ["XK001", "XK001", "XK001", "XK001", "NOPE", "XK001"],
        "A": [HOLDER, PERSON, bad_uscc, bad_id, HOLDER, HOLDER],
        "P": ["1", "2", "1", "2", "1", "1"],
        "T": ["2024-01-01 09:00:00"] * 6,
        "R": ["150102", "150172", "150102", "150102", "150102", "159999"],
    })
    assert reasons(with_refs, "case") == [
        ("C3", "bad_uscc"), ("C4", "bad_id_number"), ("C5", "unknown_matter"), ("C6", "unknown_region"),
    ]
    assert (result.loaded, result.quarantined) == (2, 4)  # 150172 is a statistical-only zone: accepted


def test_duplicates_and_identical_repeats(with_refs):
    st = stream("license", {"license_no": "ID", "holder_code": "H", "issuing_dept_code": {"value": DEPT},
                            "issued_on": "D", "holder_name": "N"})
    result = load(with_refs, st, {
        "ID": ["A", "A", "B", "Ｂ"], "H": [HOLDER] * 4, "D": ["2024-01-01"] * 4, "N": ["x", "x", "y", "z"],
    })
    # A twice identical: loads once, both rows count as loaded; B and its full-width twin differ.
    assert (result.extracted, result.loaded, result.quarantined) == (4, 2, 2)
    assert reasons(with_refs, "license") == [("B", "duplicate_key"), ("Ｂ", "duplicate_key")]
    assert with_refs.execute("SELECT count(*) FROM core.license").fetchone()[0] == 1


def test_epoch_ms_is_an_instant_in_beijing_time(with_refs):
    st = stream("evaluation", {"evaluation_id": "ID", "case_no": "C", "score": "S",
                               "evaluated_at": {"column": "T", "format": "epoch_ms"}})
    result = load(with_refs, st, {"ID": ["E1", "E2"], "C": ["C1", "C1"], "S": ["5", "7"],
                                  "T": ["1704067200000", "1704067200000"]})
    assert reasons(with_refs, "evaluation") == [("E2", "enum_value")]
    assert result.loaded == 1
    assert with_refs.execute("SELECT score, evaluated_at FROM core.evaluation").fetchone() == (
        5, dt.datetime(2024, 1, 1, 8, 0))


def test_required_fields_and_date_order(with_refs):
    st = stream("license", {"license_no": "ID", "holder_code": "H", "issuing_dept_code": {"value": DEPT},
                            "issued_on": "D", "valid_from": "F", "valid_to": "T"})
    load(with_refs, st, {"ID": ["A", "B"], "H": ["", HOLDER], "D": ["2024-01-01"] * 2,
                         "F": ["2024-01-01", "2025-01-01"], "T": ["2026-01-01", "2024-06-01"]})
    assert reasons(with_refs, "license") == [("A", "missing_required"), ("B", "date_order")]


def test_nfkc_in_sql_is_unicode_nfkc():
    """The stage's NFKC (kept as is, translated in SQL, or through the Python function) gives
    exactly what unicodedata gives, on every path."""
    import unicodedata

    import duckdb

    from warehouse.connection import configure
    from warehouse.normalise import _normal_text

    values = [
        "JS1501-001", "呼和浩特市某某有限公司", "赤峰市、包头市。张·三",  # kept as they are
        "某某（内蒙古）有限公司", "某某　公司（变更）",  # brackets, ideographic space: replaced in SQL
        "ＡＢ１２３　ｘ＇＂～", "".join(chr(c) for c in range(0xFF01, 0xFF5F)), "①号楼", "㈱某某", "ﬁle", "ｶﾀｶﾅ", "Ⅻ", "10㎡", "（变更）①", "ｶ（1）", "é", "e\u0301",  # Python
        "", None,
    ]
    con = configure(duckdb.connect())
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    got = [r[0] for r in con.execute(f"SELECT {_normal_text('v')} FROM t ORDER BY i").fetchall()]
    assert got == [None if v is None else unicodedata.normalize("NFKC", v) for v in values]
