"""Cross-department and cross-level findings (model.md `quality.recognition`), all in SQL.

跨部门跨层级信息互认: where sources disagree about a licence, where a competent department
stamped a licence its approval bureau now issues (杜绝重复盖章), where a licence points at no
approved case, where one matter is handled to different standards (同标准办理), and where
supervision feedback names a licence no source reports.

Each refresh recomputes from core the findings whose tables batches wrote since the last one (all of
them once a day); a finding that persists keeps the time it was first detected, one that
disappeared (the sources were corrected) is removed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection

from quality.table_checks import FULL_SCAN_EVERY, newest_batch
from warehouse.connection import transaction
from warehouse.loading import beijing_now
from warehouse.share import RECOGNITION_FIELDS

SAMPLE = 20


def _differing_fields_sql(fields: tuple[str, ...]) -> str:
    """Comma-separated, sorted names of the fields with more than one distinct non-empty value."""
    parts = ", ".join(
        f"CASE WHEN count(DISTINCT {f}) > 1 THEN '{f}' END" for f in sorted(fields)
    )
    return f"array_to_string(list_filter([{parts}], lambda x: x IS NOT NULL), ',')"


FINDINGS_SQL: dict[str, str] = {
    # Two sources report one licence with different attributes. Full-width and half-width forms
    # are one licence already: license_no is normalised before it is a key.
    "conflict": f"""
        SELECT 'license' AS entity, license_no AS key, {_differing_fields_sql(RECOGNITION_FIELDS)} AS fields,
               string_agg(DISTINCT _source, ',' ORDER BY _source) AS sources,
               NULL AS detail
        FROM core.license_record
        GROUP BY license_no
        HAVING count(DISTINCT _source) > 1 AND {_differing_fields_sql(RECOGNITION_FIELDS)} <> ''""",
    # A competent department issued a licence for a matter on or after the day that matter was
    # transferred, in the department's own region, to the approval bureau (whose seal is the valid one).
    "duplicate_issuance": """
        SELECT 'license', l.license_no, NULL,
               (SELECT string_agg(DISTINCT r._source, ',' ORDER BY r._source) FROM core.license_record r
                 WHERE r.license_no = l.license_no),
               'issued ' || l.issued_on || ' by ' || l.issuing_dept_code || ', matter ' || l.matter_code
                 || ' transferred on ' || min(m.transferred_on)
        FROM core.license l
        JOIN core.department d ON d.dept_code = l.issuing_dept_code AND d.kind = 'competent'
        JOIN core.matter m ON m.matter_code = l.matter_code AND m.region_code = d.region_code
             AND m.transfer_status = 'transferred' AND m.transferred_on IS NOT NULL
             AND l.issued_on >= m.transferred_on
        GROUP BY l.license_no, l.issued_on, l.issuing_dept_code, l.matter_code""",
    # A licence that names a case which is not an approved case.
    "orphan_license": """
        SELECT 'license', l.license_no, NULL,
               (SELECT string_agg(DISTINCT r._source, ',' ORDER BY r._source) FROM core.license_record r
                 WHERE r.license_no = l.license_no),
               'case ' || l.case_no || CASE WHEN c.case_no IS NULL THEN ' does not exist'
                                            ELSE ' is ' || COALESCE(c.decision, 'undecided') END
        FROM core.license l LEFT JOIN core.case c ON c.case_no = l.case_no
        WHERE l.case_no IS NOT NULL AND (c.case_no IS NULL OR c.decision IS DISTINCT FROM 'approved')""",
    # One matter carried with a different name, statutory time limit or legal basis by different
    # regions or sources.
    "standard_deviation": f"""
        SELECT 'matter', matter_code, {_differing_fields_sql(("name", "statutory_days", "legal_basis"))},
               string_agg(DISTINCT _source, ',' ORDER BY _source), NULL
        FROM core.matter
        GROUP BY matter_code
        HAVING {_differing_fields_sql(("name", "statutory_days", "legal_basis"))} <> ''""",
    # Supervision feedback names a licence that no source reports.
    "unknown_holder_license": """
        SELECT 'feedback', f.license_no, NULL, string_agg(DISTINCT f._source, ',' ORDER BY f._source),
               'named by feedback ' || string_agg(DISTINCT f.feedback_id, ',')
        FROM core.feedback f
        WHERE f.license_no IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM core.license_record r WHERE r.license_no = f.license_no)
        GROUP BY f.license_no""",
}


def _entities_read(sql: str) -> frozenset[str]:
    """The core entities a finding's SQL reads (core.license_record is the licence entity's too)."""
    return frozenset(table.removesuffix("_record") for table in re.findall(r"\bcore\.(\w+)", sql))


# The core entities each finding reads, read off its SQL: no second list to keep in step with it.
FINDING_INPUTS: dict[str, frozenset[str]] = {name: _entities_read(sql) for name, sql in FINDINGS_SQL.items()}


def findings_reading(entities: Collection[str] | None) -> list[str]:
    """The findings that read any of `entities` (None: every finding)."""
    if entities is None:
        return list(FINDINGS_SQL)
    return [name for name in FINDINGS_SQL if FINDING_INPUTS[name] & set(entities)]


def _definition_sha() -> str:
    """The findings' SQL as this version of the hub writes it: another version's findings are
    recomputed whole."""
    return hashlib.sha1(json.dumps(FINDINGS_SQL, sort_keys=True).encode()).hexdigest()


def entities_written_since_refresh(con) -> set[str] | None:
    """The core entities that batches wrote after the findings were last computed; None (compute
    every finding) when they never were, not all of them within FULL_SCAN_EVERY, or by findings
    SQL other than this version's."""
    mark = con.execute(
        "SELECT through_batch, full_refresh_at, definition_sha FROM meta.refresh_marks"
        " WHERE name = 'quality.recognition'"
    ).fetchone()
    if mark is None or mark[1] < beijing_now() - FULL_SCAN_EVERY or mark[2] != _definition_sha():
        return None
    rows = con.execute(
        "SELECT DISTINCT s.entity FROM meta.batches b JOIN meta.sources s USING (_source)"
        " WHERE b._batch_id > $1",
        [mark[0]],
    ).fetchall()
    return {r[0] for r in rows}


def refresh_recognition(con) -> tuple[dict[str, int], list[str]]:
    """Recompute into quality.recognition, in one transaction, the findings that read a core entity
    written since they were last computed (every finding at first, once a day and when this version
    of the hub writes them otherwise); returns every finding's count and the findings recomputed.

    Why: the findings join whole tables (every licence with the cases, every licence record by
    number); an hourly run that loaded cases has only `orphan_license` to redo. Batch ids sort in
    time order and core changes only by batches (warehouse.loading), so a finding none of whose
    tables a later batch wrote is still what it was; none depends on the date.
    """
    now = beijing_now()
    through = newest_batch(con)
    changed = entities_written_since_refresh(con)
    findings = findings_reading(changed)
    with transaction(con):
        if findings:
            _recompute(con, findings, now)
        con.execute(
            "INSERT INTO meta.refresh_marks VALUES ('quality.recognition', $1, $2, $2, $4) ON CONFLICT (name)"
            " DO UPDATE SET through_batch = excluded.through_batch, refreshed_at = excluded.refreshed_at,"
            " full_refresh_at = CASE WHEN $3 THEN excluded.full_refresh_at ELSE full_refresh_at END,"
            " definition_sha = excluded.definition_sha",
            [through, now, changed is None, _definition_sha()],
        )
    return finding_counts(con), findings


def _recompute(con, findings: list[str], now) -> None:
    union = "\nUNION ALL\n".join(
        f"SELECT '{name}' AS finding, * FROM ({FINDINGS_SQL[name]}) AS f(entity, key, fields, sources, detail)"
        for name in findings  # named here: the first SELECT of a union names its columns
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE hub_findings AS SELECT finding, entity, key, fields, sources, detail"
        f" FROM ({union})"
    )
    con.execute(
        """DELETE FROM quality.recognition q WHERE list_contains($findings, q.finding) AND NOT EXISTS (
             SELECT 1 FROM hub_findings f WHERE f.finding = q.finding AND f.entity = q.entity AND f.key = q.key)""",
        {"findings": findings},
    )
    con.execute(
        """INSERT OR REPLACE INTO quality.recognition (finding, entity, key, fields, sources, detected_at, detail)
           SELECT f.finding, f.entity, f.key, NULLIF(f.fields, ''), f.sources,
                  COALESCE(q.detected_at, $now), f.detail
           FROM hub_findings f LEFT JOIN quality.recognition q
             ON q.finding = f.finding AND q.entity = f.entity AND q.key = f.key""",
        {"now": now},
    )
    con.execute("DROP TABLE hub_findings")


def finding_counts(con) -> dict[str, int]:
    rows = con.execute("SELECT finding, count(*) FROM quality.recognition GROUP BY finding").fetchall()
    counts = {name: 0 for name in FINDINGS_SQL}
    counts.update({f: n for f, n in rows})
    return counts


def finding_sample(con, finding: str) -> list[str]:
    rows = con.execute(
        f"SELECT key FROM quality.recognition WHERE finding = $1 ORDER BY key LIMIT {SAMPLE}", [finding]
    ).fetchall()
    return [r[0] for r in rows]
