"""Cross-table rules checked after loads: keys, the accounting rule, the level roll-up.

Each returns (passed, metadata) and knows nothing of Dagster; `record_check_results` writes the
outcome into quality.check_results so the history is queryable beside the data.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from warehouse.loading import beijing_now
from warehouse.model import ENTITIES
from warehouse.sql import insert_rows

SAMPLE = 20


# However quiet the sources, each check reads its whole table at least this often.
FULL_SCAN_EVERY = timedelta(days=1)


def checked_through(con, check_name: str, asset: str) -> tuple[str | None, str | None]:
    """(since, last full scan) for the next run of a check: since is the newest batch id covered
    by its last result if that result passed and the last whole-table scan is recent, else None.

    Batch ids sort in time order (warehouse.loading.new_batch_id), and core rows are only ever
    deleted and inserted by batches, so after a passing check only rows of later batches can
    break the rule again: the next check reads those, not the whole table.
    """
    row = con.execute(
        "SELECT passed, json_extract_string(metadata, '$.checked_through_batch'),"
        " json_extract_string(metadata, '$.last_full_scan') FROM quality.check_results"
        " WHERE check_name = $1 AND asset = $2",
        [check_name, asset],
    ).fetchone()
    if not row or not row[0] or not row[1] or not row[2]:
        return None, None
    if datetime.fromisoformat(row[2]) < beijing_now() - FULL_SCAN_EVERY:
        return None, None
    return row[1], row[2]


def _scope_meta(since: str | None, last_full_scan: str | None, through: str, what: str) -> dict:
    return {
        "scope": "whole table" if since is None else f"{what} after batch {since}",
        "checked_through_batch": through,
        "last_full_scan": beijing_now().isoformat(timespec="seconds") if since is None else last_full_scan,
    }


def newest_batch(con) -> str:
    """The newest batch id in meta.batches ('' when none): what a check or refresh has covered."""
    return con.execute("SELECT COALESCE(max(_batch_id), '') FROM meta.batches").fetchone()[0]


def key_check(
    con, entity_name: str, *, since: str | None = None, last_full_scan: str | None = None
) -> tuple[bool, dict]:
    """Every row of core.<entity> has its whole business key, and no key appears twice.

    `since` (a batch id) narrows the check to the keys written by later batches (for licences:
    the keys of later licence records, whose golden rows may keep an older batch id); without
    it the whole table is read. The metadata's `checked_through_batch` is the `since` of the
    next check.
    """
    entity = ENTITIES[entity_name]
    key = ", ".join(entity.key)
    through = newest_batch(con)
    null_key = " OR ".join(f"{k} IS NULL" for k in entity.key)
    if since is None:
        scope, keys, params = "", "", []
    else:
        written = f"SELECT {key} FROM {entity.table} WHERE _batch_id > $1"
        if entity_name == "license":
            written += " UNION SELECT license_no FROM core.license_record WHERE _batch_id > $1"
        scope = " AND _batch_id > $1"
        keys = f" WHERE ({key}) IN ({written})"
        params = [since]
    null_rows = con.execute(f"SELECT count(*) FROM {entity.table} WHERE ({null_key}){scope}", params).fetchone()[0]
    dups = con.execute(
        f"SELECT concat_ws('|', {key}) FROM {entity.table}{keys} GROUP BY {key} HAVING count(*) > 1 LIMIT {SAMPLE}",
        params,
    ).fetchall()
    rows = con.execute(f"SELECT count(*) FROM {entity.table}").fetchone()[0]
    meta = {
        "rows": rows,
        "null_key_rows": null_rows,
        "duplicate_keys_sample": [d[0] for d in dups],
        **_scope_meta(since, last_full_scan, through, "keys written"),
    }
    return null_rows == 0 and not dups, meta


def accounting_check(
    con, source: str, raw_table: str, *, since: str | None = None, last_full_scan: str | None = None
) -> tuple[bool, dict]:
    """Per batch: extracted = loaded + quarantined, and each count matches raw and quarantine rows.

    `since` narrows it to the batches after that batch id (raw is append-only per batch and a
    batch is committed whole, so a batch that balanced once stays balanced).
    """
    through = newest_batch(con)
    after = " AND _batch_id > $2" if since is not None else ""
    params = [source, since] if since is not None else [source]
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema || '.' || table_name = $1", [raw_table]
    ).fetchone()[0]
    raw_counts = (
        f"(SELECT _batch_id, count(*) AS n FROM {raw_table} WHERE _source = $1{after} GROUP BY _batch_id)"
        if exists
        else "(SELECT NULL::VARCHAR AS _batch_id, 0 AS n WHERE false)"
    )
    bad = con.execute(
        f"""SELECT b._batch_id, b.extracted, b.loaded, b.quarantined, COALESCE(r.n, 0), COALESCE(q.n, 0)
            FROM meta.batches b
            LEFT JOIN {raw_counts} r USING (_batch_id)
            LEFT JOIN (SELECT _batch_id, count(DISTINCT _row_no) AS n FROM quality.quarantine
                       WHERE _source = $1{after} GROUP BY _batch_id) q USING (_batch_id)
            WHERE b._source = $1 AND b.status = 'succeeded'{after.replace('_batch_id', 'b._batch_id')}
              AND (b.extracted <> b.loaded + b.quarantined OR b.extracted <> COALESCE(r.n, 0)
                   OR b.quarantined <> COALESCE(q.n, 0))
            LIMIT {SAMPLE}""",
        params,
    ).fetchall()
    totals = con.execute(
        "SELECT count(*), COALESCE(sum(extracted), 0), COALESCE(sum(loaded), 0), COALESCE(sum(quarantined), 0)"
        " FROM meta.batches WHERE _source = $1",
        [source],
    ).fetchone()
    meta = {
        "batches": totals[0],
        "extracted": int(totals[1]),
        "loaded": int(totals[2]),
        "quarantined": int(totals[3]),
        "unbalanced_batches": [
            {"batch": b[0], "extracted": b[1], "loaded": b[2], "quarantined": b[3], "raw_rows": b[4],
             "quarantined_rows": b[5]}
            for b in bad
        ],
        **_scope_meta(since, last_full_scan, through, "batches"),
    }
    return not bad, meta


def rollup_check(con, view: str = "share.level_rollup") -> tuple[bool, dict]:
    """Each league and region total equals the sum of the level below (cases and licences)."""
    bad = con.execute(
        f"""WITH r AS (SELECT * FROM {view}),
            parent AS (SELECT * FROM r WHERE level IN ('league', 'region')),
            child AS (SELECT CASE level WHEN 'banner' THEN 'league' WHEN 'league' THEN 'region' END AS parent_level,
                             parent_code, sum(cases) AS cases, sum(licenses) AS licenses
                      FROM r WHERE level IN ('banner', 'league') GROUP BY ALL)
            SELECT p.level, p.region_code, p.name, p.cases, COALESCE(c.cases, 0), p.licenses, COALESCE(c.licenses, 0)
            FROM parent p LEFT JOIN child c ON c.parent_level = p.level AND c.parent_code = p.region_code
            WHERE p.cases <> COALESCE(c.cases, 0) OR p.licenses <> COALESCE(c.licenses, 0)
            LIMIT {SAMPLE}"""
    ).fetchall()
    totals = con.execute(
        f"SELECT level, sum(cases), sum(licenses) FROM {view} GROUP BY level ORDER BY level"
    ).fetchall()
    meta = {
        "totals_by_level": {lvl: {"cases": int(c), "licenses": int(n)} for lvl, c, n in totals},
        "mismatches": [
            {"level": b[0], "region_code": b[1], "name": b[2], "cases": b[3], "sum_below_cases": b[4],
             "licenses": b[5], "sum_below_licenses": b[6]}
            for b in bad
        ],
    }
    return not bad, meta


def record_check_results(con, results: list[dict]) -> None:
    """Outcomes of checks ({check_name, asset, passed, severity, description, metadata, run_id}
    each) in one statement: one commit, where a statement per outcome writes and syncs the log
    once each."""
    now = beijing_now()
    insert_rows(con, "quality.check_results", [
        (r["check_name"], r["asset"], r["passed"], r["severity"], r["description"],
         json.dumps(r["metadata"], ensure_ascii=False, default=str), r["run_id"], now)
        for r in results
    ], replace=True)
