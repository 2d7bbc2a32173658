"""The demo source systems: files, encodings, identifiers, determinism, and truth.csv exactness.

Besides the basic checks, an independent re-implementation of model.md's row rules and
recognition findings reads every source through sources.yaml and must find exactly what
truth.csv lists: every listed quarantine row fails its reason and no other, every row not listed
passes, and the findings equal the listed ones.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import unicodedata
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from pipelines.demo_data import generate_demo, is_valid_id_number, is_valid_uscc, normalize_code

SCALE = 4_000
REFERENCE = Path(__file__).parent.parent / "warehouse" / "reference"

REQUIRED = {
    "case": ["case_no", "matter_code", "applicant_code", "received_at"],
    "license": ["license_no", "holder_code", "issuing_dept_code", "issued_on"],
    "matter": ["matter_code", "name", "region_code"],
    "department": ["dept_code", "name"],
    "push": ["push_id", "to_dept_code", "pushed_at"],
    "feedback": ["feedback_id", "from_dept_code", "issued_at"],
    "evaluation": ["evaluation_id", "case_no", "score"],
}
DATES = {
    "case": ["received_at", "decided_at"],
    "license": ["issued_on", "valid_from", "valid_to"],
    "matter": ["transferred_on"],
    "push": ["pushed_at", "acknowledged_at"],
    "feedback": ["issued_at", "handled_at"],
    "evaluation": ["evaluated_at", "rectified_at"],
}
ORDER = {"case": ("received_at", "decided_at"), "license": ("valid_from", "valid_to")}
DEPT_FIELDS = {
    "matter": ["competent_dept_code", "approval_dept_code", "supervising_dept_code"],
    "case": ["handling_dept_code"],
    "license": ["issuing_dept_code"],
    "push": ["from_dept_code", "to_dept_code"],
    "feedback": ["from_dept_code", "to_dept_code"],
}
REGION_FIELDS = {"department": ["region_code"], "matter": ["region_code"], "case": ["region_code"]}
MATTER_FIELDS = {"case": ["matter_code"], "license": ["matter_code"]}
INTEGER_FIELDS = {"matter": ["statutory_days", "promised_days"], "case": ["promised_days"]}
KEYS = {
    "case": ("case_no",), "license": ("license_no",), "matter": ("matter_code", "region_code"),
    "department": ("dept_code",), "push": ("push_id",), "feedback": ("feedback_id",),
    "evaluation": ("evaluation_id",),
}
CODE_FIELDS = {
    "license_no", "case_no", "matter_code", "holder_code", "applicant_code", "dept_code", "region_code",
    "issuing_dept_code", "handling_dept_code", "competent_dept_code", "approval_dept_code",
    "supervising_dept_code", "from_dept_code", "to_dept_code", "push_id", "feedback_id", "evaluation_id",
}
ID_SHAPE = re.compile(r"[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])[0-9]{5}[0-9X]")
AUTO_DATE = re.compile(
    r"^(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)


# --------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    sources = generate_demo(directory, scale=SCALE)
    assert sources == directory / "sources.yaml"
    return directory


@pytest.fixture(scope="module")
def truth(demo) -> list[dict[str, str]]:
    with (demo / "truth.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def streams(demo) -> dict[str, dict]:
    """Every stream's rows, mapped to canonical fields through sources.yaml (raw text kept)."""
    config = yaml.safe_load((demo / "sources.yaml").read_text(encoding="utf-8"))
    out = {}
    for sname, src in config["sources"].items():
        conn = src["connection"]
        for stname, st in src["streams"].items():
            if conn["kind"] == "sql":
                db = sqlite3.connect(conn["url"][len("sqlite:///"):])
                cur = db.execute(f"SELECT * FROM {st['table']}")
                cols = [c[0] for c in cur.description]
                raw = [dict(zip(cols, r)) for r in cur]
                db.close()
            else:
                folder = demo / conn["path"]
                raw = []
                for path in sorted(folder.glob(st["pattern"])):
                    with path.open(encoding=conn["encoding"], newline="") as f:
                        raw += list(csv.DictReader(f, delimiter=conn["delimiter"]))
            rows = []
            for r in raw:
                source_key = "|".join("" if r[k] is None else str(r[k]) for k in st["key"])
                rows.append((source_key, r, _map_row(st["fields"], r)))
            out[f"{sname}.{stname}"] = {"entity": st["entity"], "rows": rows, "department": src["department"]}
    return out


def _map_row(fields: dict, raw: dict) -> dict:
    """canonical field -> (cleaned source text or None, canonical value or the marker 'UNMAPPED'/'BADDATE')."""
    row = {}
    for name, spec in fields.items():
        if isinstance(spec, str):
            spec = {"column": spec}
        if "value" in spec:
            text = str(spec["value"])
        else:
            v = raw[spec["column"]]
            text = None if v is None else unicodedata.normalize("NFKC", str(v)).strip() or None
            if text is None and "default" in spec:
                text = str(spec["default"])
        value = text
        if text is not None and "map" in spec:
            value = {str(k): str(v) for k, v in spec["map"].items()}.get(text, "UNMAPPED")
            if "default" in spec and text == spec["default"]:
                value = text
        if text is not None and spec.get("format"):
            value = _parse_format(text, spec["format"])
        row[name] = (text, value)
    return row


def _parse_format(text: str, fmt: str):
    try:
        if fmt == "epoch_ms":
            return datetime(1970, 1, 1) + timedelta(milliseconds=int(text), hours=8)
        return datetime.strptime(text, fmt)
    except ValueError:
        return "BADDATE"


def _parse_auto(text: str):
    m = AUTO_DATE.match(text)
    if not m:
        return "BADDATE"
    y, mo, d, mo2, d2, hh, mi, ss = m.groups()
    try:
        return datetime(int(y), int(mo or mo2), int(d or d2), int(hh or 0), int(mi or 0), int(ss or 0))
    except ValueError:
        return "BADDATE"


def _value(row: dict, name: str):
    text, value = row.get(name, (None, None))
    return text, value


def _norm(name: str, value):
    if value is None or value in ("UNMAPPED", "BADDATE"):
        return value
    if name in CODE_FIELDS:
        return normalize_code(value)
    if isinstance(value, str):
        return " ".join(value.split())
    return value


@pytest.fixture(scope="module")
def regions() -> set[str]:
    codes = set()
    for name in ("gbt2260_150000.csv", "stat_only_zones_150000.csv"):
        with (REFERENCE / name).open(encoding="utf-8") as f:
            codes |= {r["code"] for r in csv.DictReader(f)}
    return codes


@pytest.fixture(scope="module")
def checked(streams, regions):
    """Row rules of model.md applied to every row: (stream, source_key) -> set of reasons, plus canon rows."""
    reasons: dict[tuple[str, str], set[str]] = defaultdict(set)
    canon: dict[str, list[tuple[str, dict]]] = {}

    def base_rules(stream: str, entity: str) -> None:
        rows = []
        for skey, raw, mapped in streams[stream]["rows"]:
            found = reasons[(stream, skey)]
            row = {}
            for name, (text, value) in mapped.items():
                if name in DATES.get(entity, []) and text is not None and not isinstance(value, datetime):
                    value = value if value == "BADDATE" else _parse_auto(text)
                row[name] = _norm(name, value)
            for name in REQUIRED[entity]:
                if _value(mapped, name)[0] is None:
                    found.add("missing_required")
            for name, (text, value) in mapped.items():
                if text is not None and value == "UNMAPPED":
                    found.add("enum_value")
            if entity == "evaluation" and row.get("score") not in (None, "1", "2", "3", "4", "5"):
                found.add("enum_value")
            for name in INTEGER_FIELDS.get(entity, []):
                if row.get(name) is not None and not re.fullmatch(r"\d+", str(row[name])):
                    found.add("enum_value")
            for name in DATES.get(entity, []):
                if row.get(name) == "BADDATE":
                    found.add("bad_date")
            if entity in ORDER:
                a, b = (row.get(x) for x in ORDER[entity])
                if isinstance(a, datetime) and isinstance(b, datetime) and a > b:
                    found.add("date_order")
            if entity == "department" and row["dept_code"] and not is_valid_uscc(row["dept_code"]):
                found.add("bad_uscc")
            party = {"case": "applicant_code", "license": "holder_code", "feedback": "holder_code"}.get(entity)
            if party and row.get(party):
                code = row[party]
                person = (row.get("applicant_type") == "natural_person") if entity == "case" \
                    else bool(ID_SHAPE.fullmatch(code))
                if person and not is_valid_id_number(code):
                    found.add("bad_id_number")
                if not person and not is_valid_uscc(code):
                    found.add("bad_uscc")
            for name in REGION_FIELDS.get(entity, []):
                if row.get(name) and row[name] not in regions:
                    found.add("unknown_region")
            rows.append((skey, row))
        canon[stream] = rows

    def duplicates(stream: str, entity: str) -> None:
        versions = defaultdict(set)
        for skey, row in canon[stream]:
            key = tuple(row.get(k) for k in KEYS[entity])
            versions[key].add(tuple(sorted((k, str(v)) for k, v in row.items())))
        for skey, row in canon[stream]:
            if len(versions[tuple(row.get(k) for k in KEYS[entity])]) > 1:
                reasons[(stream, skey)].add("duplicate_key")

    for stream, info in streams.items():
        base_rules(stream, info["entity"])
        duplicates(stream, info["entity"])

    def good(stream):
        return [(k, r) for k, r in canon[stream] if not reasons[(stream, k)]]

    depts = {r["dept_code"]: r for k, r in good("exchange.departments")}
    for stream in ("exchange.matters",):
        for skey, row in canon[stream]:
            for name in DEPT_FIELDS["matter"]:
                if row.get(name) and row[name] not in depts:
                    reasons[(stream, skey)].add("unknown_department")
    matters = {r["matter_code"] for k, r in good("exchange.matters")}
    for stream, info in streams.items():
        entity = info["entity"]
        if entity in ("department", "matter"):
            continue
        for skey, row in canon[stream]:
            for name in DEPT_FIELDS.get(entity, []):
                if row.get(name) and row[name] not in depts:
                    reasons[(stream, skey)].add("unknown_department")
            for name in MATTER_FIELDS.get(entity, []):
                if row.get(name) and row[name] not in matters:
                    reasons[(stream, skey)].add("unknown_matter")
    return reasons, canon, depts


def _good(checked, stream):
    reasons, canon, _ = checked
    return [r for k, r in canon[stream] if not reasons[(stream, k)]]


# ------------------------------------------------------------------------------------ basic checks


def test_files_exist(demo):
    for name in ("platform.sqlite", "zhujian.sqlite", "amr.sqlite", "sources.yaml", "truth.csv"):
        assert (demo / name).is_file(), name
    for name in ("departments_20240101.csv", "matters_20240101.csv", "feedback_20240601.csv"):
        assert (demo / "exchange" / name).is_file(), name
    assert (demo / "sources.yaml").read_text(encoding="utf-8").startswith("# ")


def test_sqlite_row_counts(demo):
    def count(db, table):
        con = sqlite3.connect(demo / db)
        try:
            return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        finally:
            con.close()

    assert count("platform.sqlite", "t_case_info") == SCALE
    assert 0.25 * SCALE <= count("platform.sqlite", "t_evaluation") <= 0.35 * SCALE
    assert count("platform.sqlite", "t_license") > 0.4 * SCALE
    assert count("platform.sqlite", "t_push") > 0.1 * SCALE
    assert count("zhujian.sqlite", "T_XZXK_XKZXX") > 0.05 * SCALE
    assert count("amr.sqlite", "T_SPJY_XKZ") > 0.02 * SCALE


def test_csv_files_are_gb18030(demo):
    for path in sorted((demo / "exchange").glob("*.csv")):
        data = path.read_bytes()
        text = data.decode("gb18030")
        assert re.search(r"[\u4e00-\u9fff]", text), path.name
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        header = next(csv.reader([text.splitlines()[0]]))
        assert all(re.search(r"[\u4e00-\u9fff]", h) for h in header), header


def test_sources_yaml_is_a_valid_contract(demo):
    config = pytest.importorskip("pipelines.config")
    hub = config.load_config(demo / "sources.yaml")
    assert {s.qualified_name for s in hub.streams()} == {
        "platform.cases", "platform.evaluations", "platform.licenses", "platform.pushes",
        "zhujian.licenses", "amr.licenses", "exchange.departments", "exchange.matters", "exchange.feedback",
    }
    for stream in hub.streams():
        if hub.sources[stream.source].kind == "sql":
            assert stream.cursor and stream.key


def test_identifiers_in_good_rows_are_valid(checked, streams):
    reasons = checked[0]
    n = 0
    for stream, info in streams.items():
        for skey, raw, mapped in info["rows"]:
            if reasons[(stream, skey)]:
                continue
            for name, (text, value) in mapped.items():
                if text is None or not name.endswith("_code") or name in ("region_code", "matter_code"):
                    continue
                code = normalize_code(text)
                if name == "applicant_code" and mapped["applicant_type"][1] == "natural_person":
                    assert is_valid_id_number(code), (stream, skey, code)
                else:
                    assert is_valid_uscc(code), (stream, skey, name, code)
                n += 1
    assert n > SCALE


def test_truth_covers_reasons_and_findings(truth):
    quarantine = {r["code"] for r in truth if r["kind"] == "quarantine"}
    findings = {r["code"] for r in truth if r["kind"] == "finding"}
    assert len(quarantine) >= 6
    assert quarantine == {"missing_required", "bad_uscc", "bad_id_number", "bad_date", "date_order",
                          "unknown_region", "unknown_matter", "unknown_department", "enum_value", "duplicate_key"}
    assert findings == {"conflict", "duplicate_issuance", "orphan_license", "standard_deviation",
                        "unknown_holder_license"}
    assert {r["code"] for r in truth if r["kind"] == "not_a_defect"} >= {"fullwidth_variant",
                                                                           "issued_before_transfer"}
    for r in truth:
        assert r["kind"] in ("quarantine", "finding", "not_a_defect")
        assert r["entity"] and r["key"]
        if r["code"] in ("conflict", "standard_deviation"):
            assert r["fields"] and r["fields"] == ",".join(sorted(r["fields"].split(",")))
        else:
            assert r["fields"] == ""
        if r["kind"] == "finding" and r["source"]:
            assert r["source"] == ",".join(sorted(r["source"].split(",")))


def test_defect_share(truth, streams):
    total = sum(len(info["rows"]) for info in streams.values())
    defects = sum(2 if r["code"] == "duplicate_key" else 1 for r in truth if r["kind"] in ("quarantine", "finding"))
    assert 0.02 <= defects / total <= 0.05, (defects, total)


def test_deterministic_and_overwrites(tmp_path):
    a = generate_demo(tmp_path / "a", scale=1500, seed=7).parent
    b = generate_demo(tmp_path / "b", scale=1500, seed=7).parent
    assert (a / "truth.csv").read_bytes() == (b / "truth.csv").read_bytes()
    for name in ("departments_20240101.csv", "matters_20240101.csv", "feedback_20240601.csv"):
        assert (a / "exchange" / name).read_bytes() == (b / "exchange" / name).read_bytes()

    def dump(directory):
        out = []
        for db in ("platform", "zhujian", "amr"):
            con = sqlite3.connect(directory / f"{db}.sqlite")
            out += list(con.iterdump())
            con.close()
        return out

    assert dump(a) == dump(b)
    # regenerating into an existing folder replaces the files
    generate_demo(tmp_path / "a", scale=1500, seed=7)
    assert dump(a) == dump(b)
    c = generate_demo(tmp_path / "c", scale=1500, seed=8).parent
    assert (a / "truth.csv").read_bytes() != (c / "truth.csv").read_bytes()


# ------------------------------------------------------------------- truth.csv is exact (row rules)


def test_quarantine_truth_is_exact(checked, truth, streams):
    reasons = checked[0]
    expected: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in truth:
        if r["kind"] == "quarantine":
            expected[(r["source"], r["key"])].add(r["code"])
    found = {k: v for k, v in reasons.items() if v}
    missing = {k: v for k, v in expected.items() if found.get(k) != v}
    extra = {k: v for k, v in found.items() if k not in expected}
    assert not missing, list(missing.items())[:10]
    assert not extra, list(extra.items())[:10]
    # each quarantined row carries exactly one defect
    assert all(len(v) == 1 for v in expected.values())


def test_not_a_defect_rows_load(checked, truth):
    reasons, canon, _ = checked
    for r in truth:
        if r["kind"] != "not_a_defect":
            continue
        if r["code"] == "stat_only_zone":
            assert not reasons[(r["source"], r["key"])]
        else:
            keys = [k for k, row in canon[r["source"]] if row.get("license_no") == r["key"]]
            assert keys, r
            assert all(not reasons[(r["source"], k)] for k in keys), r
    assert any(r["code"] == "fullwidth_variant" for r in truth)
    raw_keys = [k for k, _ in canon["platform.licenses"]]
    assert any(any(ord(c) > 0xFF00 for c in k) for k in raw_keys)  # full-width as written
    assert any(" " in k for k in raw_keys)  # inner blank as written


# ------------------------------------------------------------------ truth.csv is exact (findings)


def _license_records(checked, streams):
    records = defaultdict(dict)
    for stream, info in streams.items():
        if info["entity"] == "license":
            for row in _good(checked, stream):
                records[row["license_no"]][stream] = row
    return records


def _status(row):
    s = row.get("status")
    vt = row.get("valid_to")
    if s == "valid" and isinstance(vt, datetime) and vt.date() < date.today():
        return "expired"
    return s


def test_findings_truth_is_exact(checked, truth, streams):
    depts = checked[2]
    expected = {(r["code"], r["key"], r["fields"], r["source"]) for r in truth if r["kind"] == "finding"}
    found = set()
    records = _license_records(checked, streams)
    # conflict
    for no, by_source in records.items():
        if len(by_source) < 2:
            continue
        fields = []
        for f in ("holder_code", "holder_name", "valid_from", "valid_to", "status"):
            values = {(_status(r) if f == "status" else r.get(f)) for r in by_source.values()}
            if len(values) > 1:
                fields.append(f)
        if fields:
            found.add(("conflict", no, ",".join(sorted(fields)), ",".join(sorted(by_source))))
    # orphan_license
    approved = {r["case_no"] for r in _good(checked, "platform.cases") if r.get("decision") == "approved"}
    for no, by_source in records.items():
        orphan = sorted(s for s, r in by_source.items() if r.get("case_no") and r["case_no"] not in approved)
        if orphan:
            found.add(("orphan_license", no, "", ",".join(orphan)))
    # duplicate_issuance
    matters = {(r["matter_code"], r["region_code"]): r for r in _good(checked, "exchange.matters")}
    for no, by_source in records.items():
        hits = []
        for s, r in by_source.items():
            dept = depts.get(r["issuing_dept_code"])
            if not dept or dept["kind"] != "competent" or not r.get("matter_code"):
                continue
            m = matters.get((r["matter_code"], dept["region_code"]))
            if m and m["transfer_status"] == "transferred" and m["transferred_on"] <= r["issued_on"]:
                hits.append(s)
        if hits:
            found.add(("duplicate_issuance", no, "", ",".join(sorted(hits))))
    # standard_deviation
    by_code = defaultdict(list)
    for r in _good(checked, "exchange.matters"):
        by_code[r["matter_code"]].append(r)
    for code, rows in by_code.items():
        fields = [f for f in ("legal_basis", "name", "statutory_days") if len({r[f] for r in rows}) > 1]
        if fields:
            found.add(("standard_deviation", code, ",".join(fields), "exchange.matters"))
    # unknown_holder_license
    all_numbers = {normalize_code(text) for stream, info in streams.items() if info["entity"] == "license"
                   for _, _, mapped in info["rows"] if (text := mapped["license_no"][0])}
    for r in _good(checked, "exchange.feedback"):
        if r.get("license_no") and r["license_no"] not in all_numbers:
            found.add(("unknown_holder_license", r["license_no"], "", "exchange.feedback"))
    assert found - expected == set(), sorted(found - expected)[:10]
    assert expected - found == set(), sorted(expected - found)[:10]
    # look-alikes are recognised, not conflicts
    for r in truth:
        if r["code"] == "fullwidth_variant":
            assert len(records[r["key"]]) == 2, r
        if r["code"] == "issued_before_transfer":
            assert ("duplicate_issuance", r["key"], "", r["source"]) not in found
