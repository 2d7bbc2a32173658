"""Great Expectations suites built from the row rules, run inside a real DuckDB warehouse.

The batches are loaded with `warehouse.loading.load_batch` (so `quality.quarantine` holds what the
project quarantined) and then staged again from `raw` with the same `stage_query` inside an open
transaction, where GX validates the TEMP stage table on the caller's connection.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import unquote

import pytest

pytest.importorskip("great_expectations")
pytest.importorskip("duckdb_engine")

from pipelines.config import StreamConfig
from quality.gx_duckdb import build_data_docs, validate_stage
from quality.gx_suites import build_suite
from quality.row_rules import ALL_RULES, violations_query
from tests.conftest import DEPT, load, resident_id, stream, uscc
from warehouse.loading import raw_table
from warehouse.model import ENTITIES
from warehouse.normalise import stage_query
from warehouse.sql import Params

HOLDER = uscc("91150100MA0000001")
PERSON = resident_id("15010219850101123")
BAD_USCC = HOLDER[:-1] + ("0" if HOLDER[-1] != "0" else "1")
BAD_ID = PERSON[:-1] + ("0" if PERSON[-1] != "0" else "1")


def stage(con, st: StreamConfig, batch_id: str, table: str = "hub_stage") -> None:
    """Re-stage a landed batch exactly as load_batch does (the caller holds the transaction)."""
    p = Params()
    sql = stage_query(st, ENTITIES[st.entity], raw_table(st), p)
    p.values["batch_id"] = batch_id
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}", p.values)


def project_counts(con, entity: str, table: str = "hub_stage") -> Counter:
    rows = con.execute(f"SELECT reason, count(*) FROM ({violations_query(ENTITIES[entity], table)}) GROUP BY reason")
    return Counter(dict(rows.fetchall()))


def gx_counts(result: dict) -> Counter:
    out: Counter = Counter()
    for e in result["expectations"]:
        out[e["reason"]] += e["unexpected_count"] or 0
    return +out


def quarantined(con, batch_id: str) -> Counter:
    rows = con.execute(
        "SELECT reason, count(*) FROM quality.quarantine WHERE _batch_id = $1 GROUP BY reason", [batch_id]
    )
    return Counter(dict(rows.fetchall()))


LICENSE = stream(
    "license",
    {
        "license_no": "ID",
        "holder_code": "H",
        "issuing_dept_code": "G",
        "issued_on": "D",
        "valid_from": "F",
        "valid_to": "T",
        "matter_code": "M",
        "holder_name": "N",
        "status": {"column": "S", "map": {"1": "valid", "2": "revoked"}, "default": "valid"},
    },
)

# One defect per row (and per reason at most one rule per row), so the per-reason counts of GX
# (one count per expectation) and of violations_query (one row per row and reason) must agree.
# fmt: off
LICENSE_ROWS = {
    #      ok          missing   bad uscc   bad id     bad date      order        dept       matter    enum  dup  dup
    "ID": ["L1",       "L2",     "L3",      "L4",      "L5",         "L6",        "L7",      "L8",     "L9", "LA", "LA", "LB", "LB"],
    "H": [HOLDER,      "",       BAD_USCC,  BAD_ID,    HOLDER,       PERSON,      HOLDER,    HOLDER,   HOLDER, HOLDER, HOLDER, HOLDER, HOLDER],
    "G": [DEPT,        DEPT,     DEPT,      DEPT,      DEPT,         DEPT,        "NOPE",    DEPT,     DEPT, DEPT, DEPT, DEPT, DEPT],
    "D": ["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01", "2023-02-29", "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01"],
    "F": ["2024-01-01", "", "", "", "", "2025-01-01", "", "", "", "", "", "", ""],
    "T": ["2029-01-01", "", "", "", "", "2024-06-01", "", "", "", "", "", "", ""],
    "M": ["XK001",     "",       "",        "",        "",           "",          "",        "XK999",  "",   "",   "",   "",   ""],
    "N": ["甲",        "乙",     "丙",      "丁",      "戊",         "己",        "庚",      "辛",     "壬", "癸", "癸", "子", "丑"],
    "S": ["1",         "1",      "1",       "1",       "1",          "1",         "1",       "1",      "9",  "1",  "1",  "1",  "1"],
}
# fmt: on
EXPECTED_LICENSE = Counter(
    {
        "missing_required": 1,
        "bad_uscc": 1,
        "bad_id_number": 1,
        "bad_date": 1,
        "date_order": 1,
        "unknown_department": 1,
        "unknown_matter": 1,
        "enum_value": 1,
        "duplicate_key": 2,
    }
)


def test_every_entity_has_a_suite_from_its_rules():
    for entity, rules in ALL_RULES.items():
        suite = build_suite(entity)
        assert suite.name == f"core.{entity}"
        assert len(suite.expectations) == len(rules)
        for exp, rule in zip(suite.expectations, rules):
            assert exp.meta == {
                "reason": rule.reason,
                "rule_kind": rule.kind,
                "fields": list(rule.fields),
                "description": rule.description,
            }
            assert rule.description in exp.notes


def test_gx_counts_equal_the_quarantine_per_reason(with_refs, tmp_path):
    con = with_refs
    result = load(con, LICENSE, LICENSE_ROWS)
    assert quarantined(con, result.batch_id) == EXPECTED_LICENSE
    con.execute("BEGIN TRANSACTION")
    stage(con, LICENSE, result.batch_id)
    gx = validate_stage(con, "license")
    assert project_counts(con, "license") == EXPECTED_LICENSE
    assert gx_counts(gx) == EXPECTED_LICENSE
    assert not gx["success"]
    n = len(LICENSE_ROWS["ID"])
    for e in gx["expectations"]:
        assert e["element_count"] == n
        assert e["success"] == (e["unexpected_count"] == 0)
    con.execute("ROLLBACK")
    index = build_data_docs([gx], tmp_path / "docs")
    assert index.name == "index.html" and index.exists()
    assert "core.license" in index.read_text(encoding="utf-8")


def test_data_docs_render_only_fresh_validations_once_the_others_are_on_disk(with_refs, tmp_path):
    con = with_refs
    result = load(con, LICENSE, LICENSE_ROWS)

    def validated():
        con.execute("BEGIN TRANSACTION")
        stage(con, LICENSE, result.batch_id)
        summary = validate_stage(con, "license")
        con.execute("ROLLBACK")
        return summary

    docs = tmp_path / "docs"
    first = validated()
    build_data_docs([first], docs, fresh=["core.license"])  # nothing on disk yet: a full build
    pages = {p: p.stat().st_mtime_ns for p in (docs / "validations").rglob("*.html")}
    assert pages
    build_data_docs([first], docs, fresh=[])  # nothing new: no validation page is rendered again
    assert {p: p.stat().st_mtime_ns for p in pages} == pages
    second = validated()
    build_data_docs([first, second], docs, fresh=["core.license"])
    index = (docs / "index.html").read_text(encoding="utf-8")
    links = {docs / unquote(link) for link in re.findall(r'(validations/[^"\s]+?\.html)', index)}
    assert len(links) == 1  # the latest validation, rendered now beside the earlier page
    (link,) = links
    assert link.exists() and link not in pages


def test_party_codes_regions_and_matters_of_cases(with_refs):
    con = with_refs
    st = stream(
        "case",
        {
            "case_no": "ID",
            "matter_code": "M",
            "applicant_code": "A",
            "received_at": "T",
            "decided_at": "E",
            "applicant_type": {"column": "P", "map": {"1": "legal_person", "2": "natural_person"}},
            "region_code": "R",
            "promised_days": "DAYS",
        },
    )
    rows = {
        "ID": ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"],
        "M": ["XK001", "XK001", "XK001", "XK001", "NOPE", "XK001", "XK001", "XK001", "XK001"],
        "A": [HOLDER, PERSON, BAD_USCC, BAD_ID, HOLDER, HOLDER, BAD_ID, HOLDER, HOLDER],
        "P": ["1", "2", "1", "2", "1", "1", "", "1", "1"],  # C7: no type, shaped like an ID
        "T": ["2024-01-01 09:00:00"] * 7 + ["2024-01-02 09:00:00", "2024-01-01"],
        "E": ["", "", "", "", "", "", "", "2024-01-01 10:00:00", "2024年13月1日"],
        "R": ["150102", "150172", "150102", "150102", "150102", "159999", "150102", "150102", "150102"],
        "DAYS": ["5", "", "", "", "", "", "", "", "five"],
    }
    result = load(con, st, rows)
    expected = Counter(
        {
            "bad_uscc": 1,
            "bad_id_number": 2,
            "unknown_matter": 1,
            "unknown_region": 1,
            "date_order": 1,
            "bad_date": 1,
            "enum_value": 1,
        }
    )
    assert quarantined(con, result.batch_id) == expected
    con.execute("BEGIN TRANSACTION")
    stage(con, st, result.batch_id)
    gx = validate_stage(con, "case")
    assert project_counts(con, "case") == expected
    assert gx_counts(gx) == expected
    con.execute("ROLLBACK")


def test_a_good_batch_passes_every_expectation(with_refs):
    con = with_refs
    good = {k: v[:1] for k, v in LICENSE_ROWS.items()}
    result = load(con, LICENSE, good)
    con.execute("BEGIN TRANSACTION")
    stage(con, LICENSE, result.batch_id)
    gx = validate_stage(con, "license")
    con.execute("ROLLBACK")
    assert gx["success"], [e for e in gx["expectations"] if not e["success"]]
    assert len(gx["expectations"]) == len(ALL_RULES["license"])
    assert all(e["unexpected_count"] == 0 and e["element_count"] == 1 for e in gx["expectations"])


def test_required_enumeration_uses_the_canonical_value(with_refs):
    """evaluation.score is required but mapped with a default: an empty source is not missing."""
    con = with_refs
    st = stream(
        "evaluation",
        {"evaluation_id": "ID", "case_no": "C", "score": {"column": "S", "map": {"A": "5", "B": "1"}, "default": "3"}},
    )
    result = load(con, st, {"ID": ["E1", "E2", "E3"], "C": ["C1", "C1", "C1"], "S": ["A", "", "Z"]})
    expected = Counter({"enum_value": 1})
    assert quarantined(con, result.batch_id) == expected
    con.execute("BEGIN TRANSACTION")
    stage(con, st, result.batch_id)
    gx = validate_stage(con, "evaluation")
    con.execute("ROLLBACK")
    assert gx_counts(gx) == expected


def test_validation_leaves_the_callers_transaction_usable(with_refs):
    con = with_refs
    result = load(con, LICENSE, LICENSE_ROWS)
    con.execute("BEGIN TRANSACTION")
    stage(con, LICENSE, result.batch_id)
    con.execute("CREATE TABLE main.after_gx (n INTEGER)")
    validate_stage(con, "license")
    validate_stage(con, "license")  # twice: the cached context, datasource and asset are reused
    con.execute("INSERT INTO main.after_gx SELECT count(*) FROM hub_stage")
    con.execute("COMMIT")
    assert con.execute("SELECT n FROM main.after_gx").fetchone()[0] == len(LICENSE_ROWS["ID"])
    # GX committed nothing on its own: a rollback after validation undoes what came before it
    con.execute("BEGIN TRANSACTION")
    con.execute("INSERT INTO main.after_gx VALUES (-1)")
    stage(con, LICENSE, result.batch_id)
    validate_stage(con, "license")
    con.execute("ROLLBACK")
    assert con.execute("SELECT list(n) FROM main.after_gx").fetchone()[0] == [len(LICENSE_ROWS["ID"])]
    # and outside any transaction (autocommit) it works too
    con.execute("BEGIN TRANSACTION")
    stage(con, LICENSE, result.batch_id)
    con.execute("COMMIT")
    assert gx_counts(validate_stage(con, "license")) == EXPECTED_LICENSE


def test_prepared_through_a_cursor_then_validated_on_the_callers_connection(with_refs, monkeypatch):
    """`prepare` (pipelines.extract runs it in a thread while the source is read) builds the suite
    and the datasource through a cursor of its own; the validation then runs on the caller's
    connection, inside its transaction, once that cursor is gone. A failed preparation (here a
    closed cursor) leaves nothing half-built: the validation builds what is missing itself."""
    from quality import gx_duckdb

    monkeypatch.setattr(gx_duckdb, "_HUB", None)  # a new process's context
    con = with_refs
    result = load(con, LICENSE, LICENSE_ROWS)
    closed = con.cursor()
    closed.close()
    with pytest.raises(ConnectionError, match="already closed"):  # GX's TestConnectionError
        gx_duckdb.prepare(closed, "license")
    assert gx_duckdb.hub_context().datasource is None and gx_duckdb.hub_context().borrowed._target is None
    cursor = con.cursor()
    gx_duckdb.prepare(cursor, "license")
    cursor.close()
    assert gx_duckdb.hub_context().datasource is not None and "license" in gx_duckdb.hub_context().suites
    con.execute("BEGIN TRANSACTION")
    stage(con, LICENSE, result.batch_id)
    assert gx_counts(validate_stage(con, "license")) == EXPECTED_LICENSE
    con.execute("ROLLBACK")


def test_another_connection_and_stage_name(with_refs, tmp_path):
    """The per-process context follows whichever connection and stage table it is lent."""
    from warehouse.connection import connect
    from warehouse.schema import create_schema

    other = connect(tmp_path / "other.duckdb")
    try:
        create_schema(other)
        depts = stream("department", {"dept_code": "C", "name": "N", "region_code": "R"}, key=("C",))
        result = load(other, depts, {"C": [DEPT, BAD_USCC, ""], "N": ["甲", "乙", "丙"], "R": ["150000", "990000", ""]})
        expected = Counter({"bad_uscc": 1, "unknown_region": 1, "missing_required": 1})
        other.execute("BEGIN TRANSACTION")
        stage(other, depts, result.batch_id, table="my_stage")
        gx = validate_stage(other, "department", stage_table="my_stage")
        assert project_counts(other, "department", "my_stage") == expected
        assert gx_counts(gx) == expected
        other.execute("COMMIT")
    finally:
        other.close()
    # the first warehouse still validates on its own connection afterwards
    result = load(with_refs, LICENSE, LICENSE_ROWS)
    with_refs.execute("BEGIN TRANSACTION")
    stage(with_refs, LICENSE, result.batch_id)
    assert gx_counts(validate_stage(with_refs, "license")) == EXPECTED_LICENSE
    with_refs.execute("ROLLBACK")


def test_a_suite_that_does_not_fit_the_stage_raises_and_leaves_the_transaction(with_refs):
    from quality.gx_duckdb import GxValidationError

    con = with_refs
    result = load(con, LICENSE, LICENSE_ROWS)
    con.execute("BEGIN TRANSACTION")
    stage(con, LICENSE, result.batch_id)
    with pytest.raises(GxValidationError, match="not a case stage: it lacks applicant_code"):
        validate_stage(con, "case")  # the case suite names columns the licence stage lacks
    with pytest.raises(GxValidationError, match="no table no_such_stage"):
        validate_stage(con, "license", stage_table="no_such_stage")
    assert con.execute("SELECT count(*) FROM hub_stage").fetchone()[0] == len(LICENSE_ROWS["ID"])
    con.execute("COMMIT")


def test_natural_person_with_letters_in_the_code_is_bad_id_number(with_refs):
    con = with_refs
    st = stream(
        "case",
        {
            "case_no": "ID",
            "matter_code": "M",
            "applicant_code": "A",
            "received_at": "T",
            "applicant_type": {"column": "P", "map": {"1": "legal_person", "2": "natural_person"}},
        },
    )
    rows = {"ID": ["C1"], "M": ["XK001"], "A": [HOLDER], "P": ["2"], "T": ["2024-01-01"]}
    result = load(con, st, rows)  # fails today with the Conversion Error
    assert quarantined(con, result.batch_id) == Counter({"bad_id_number": 1})
    con.execute("BEGIN TRANSACTION")
    stage(con, st, result.batch_id)
    assert gx_counts(validate_stage(con, "case")) == Counter({"bad_id_number": 1})
    con.execute("ROLLBACK")


def test_resident_id_expectation_in_an_ad_hoc_suite(with_refs):
    """The plain GB 11643 expectation (no column of the model needs it yet) via `suite=`."""
    import great_expectations as gx

    from quality.gx_expectations import ExpectColumnValuesToBeValidResidentId

    con = with_refs
    result = load(con, LICENSE, LICENSE_ROWS)
    con.execute("BEGIN TRANSACTION")
    stage(con, LICENSE, result.batch_id)
    suite = gx.ExpectationSuite(
        name="adhoc.resident_id",
        expectations=[ExpectColumnValuesToBeValidResidentId(column="holder_code", meta={"reason": "bad_id_number"})],
    )
    out = validate_stage(con, "license", suite=suite)
    present = con.execute("SELECT count(holder_code) FROM hub_stage").fetchone()[0]
    con.execute("ROLLBACK")
    assert out["suite"] == "adhoc.resident_id"
    # every present holder code but the one valid ID (L6) is not a resident ID number
    assert out["expectations"][0]["unexpected_count"] == present - 1


def test_kwargs_read_once_equal_gx_own_methods():
    """The hub's expectations read their configuration once per call (quality/gx_expectations.py);
    what they return must stay what GX's own methods return, for every expectation of every suite."""
    from great_expectations.expectations.expectation import Expectation

    from quality.gx_expectations import HUB_EXPECTATIONS

    checked = 0
    for entity in ALL_RULES:
        for exp in build_suite(entity).expectations:
            assert isinstance(exp, HUB_EXPECTATIONS)
            runtime = {"result_format": {"result_format": "SUMMARY", "partial_unexpected_count": 0}}
            assert exp._get_domain_kwargs() == Expectation._get_domain_kwargs(exp)
            assert exp._get_success_kwargs() == Expectation._get_success_kwargs(exp)
            assert exp._get_runtime_kwargs(runtime) == Expectation._get_runtime_kwargs(exp, runtime)
            assert exp._get_runtime_kwargs() == Expectation._get_runtime_kwargs(exp)
            checked += 1
    assert checked > 20


def test_quarantined_rows_keep_source_columns_that_start_with_an_underscore(warehouse):
    """Only the raw table's own lineage columns are left out of a quarantined row's `raw`."""
    import json

    depts = stream("department", {"dept_code": "C", "name": "N"}, key=("C",))
    result = load(warehouse, depts, {"C": [DEPT], "N": [None], "_id": ["mongo-17"]})
    assert result.quarantined == 1
    (raw,) = warehouse.execute("SELECT raw FROM quality.quarantine WHERE _batch_id = $1", [result.batch_id]).fetchone()
    assert json.loads(raw) == {"C": DEPT, "N": None, "_id": "mongo-17"}
