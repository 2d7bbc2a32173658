"""The shared views departments query (model.md "Shared views"), as plain SQL over core.

Views hold no data of their own, so they are always as fresh as core; they use only built-in
SQL so any client (DuckDB CLI, BI tools) can read them without the hub's functions.
"""

from __future__ import annotations

from datetime import date, timedelta

from warehouse.connection import transaction

# Attributes on which two sources' records of one licence must agree (model.md `conflict`).
RECOGNITION_FIELDS = ("holder_code", "holder_name", "valid_from", "valid_to", "status")

VIEWS: dict[str, tuple[str, str]] = {
    "share.license_registry": (
        """
SELECT l.*,
       CASE WHEN c.key IS NOT NULL THEN 'conflict'
            WHEN l.n_sources >= 2 THEN 'recognized'
            ELSE 'single_source' END AS recognition,
       c.fields AS conflict_fields,
       d.region_code AS issuing_region_code
FROM core.license l
LEFT JOIN quality.recognition c ON c.finding = 'conflict' AND c.entity = 'license' AND c.key = l.license_no
LEFT JOIN core.department d ON d.dept_code = l.issuing_dept_code""",
        "证照共享目录：黄金证照及互认状态（recognized 多源一致 / conflict 多源冲突 / single_source 单一来源）",
    ),
    "share.holder_licenses": (
        """
SELECT holder_code, holder_name, license_no, license_type, matter_code, issuing_dept_code,
       issued_on, valid_from, valid_to
FROM core.license
WHERE status = 'valid' AND (valid_to IS NULL OR valid_to >= current_date)""",
        "市场主体有效证照：按持证主体代码查询其全部有效证照",
    ),
    "share.overdue_cases": (
        """
SELECT c.case_no, c.matter_code, c.handling_dept_code, c.region_code, c.received_at, c.decided_at,
       c.decision, c.promised_days, w1.workday_no - w0.workday_no AS working_days_used,
       c.decided_at IS NULL AS still_open
FROM core.case c
JOIN core.workday w0 ON w0.day = CAST(c.received_at AS DATE)
JOIN core.workday w1 ON w1.day = CAST(COALESCE(c.decided_at, current_localtimestamp()) AS DATE)
WHERE c.promised_days IS NOT NULL AND w1.workday_no - w0.workday_no > c.promised_days""",
        "超期办件：按国家法定工作日历（含调休）计算，办结（或至今未办结）超过承诺工作日的办件",
    ),
    "share.push_sla": (
        """
SELECT p.*, p.acknowledged_at - p.pushed_at AS ack_lag,
       date_diff('minute', p.pushed_at, p.acknowledged_at) / 60.0 AS ack_lag_hours,
       COALESCE(p.acknowledged_at <= p.pushed_at + INTERVAL 1 DAY, false) AS on_time
FROM core.push p""",
        "审批信息推送时效：每条推送的签收时长与是否按时签收（24 小时内）",
    ),
    "share.level_rollup": (
        """
WITH counted AS (
  SELECT region_code, count(*) AS cases, 0 AS licenses FROM core.case GROUP BY region_code
  UNION ALL
  SELECT d.region_code, 0, count(*) FROM core.license l
  JOIN core.department d ON d.dept_code = l.issuing_dept_code GROUP BY d.region_code
), own AS (  -- statistical-only zones count with the league they belong to
  SELECT COALESCE(r.region_code, s.parent_code) AS region_code, sum(cases) AS cases, sum(licenses) AS licenses
  FROM counted c LEFT JOIN core.region r ON r.region_code = c.region_code
  LEFT JOIN core.region_stat_only s ON s.region_code = c.region_code
  WHERE COALESCE(r.region_code, s.parent_code) IS NOT NULL GROUP BY 1
), banner AS (  -- banners/counties, plus each league's and the region's own level (本级)
  SELECT 'banner' AS level, r.region_code, r.name, r.parent_code, false AS own_level,
         COALESCE(o.cases, 0) AS cases, COALESCE(o.licenses, 0) AS licenses
  FROM core.region r LEFT JOIN own o USING (region_code) WHERE r.level = 'banner'
  UNION ALL
  SELECT 'banner', r.region_code, r.name || '本级', r.region_code, true,
         COALESCE(o.cases, 0), COALESCE(o.licenses, 0)
  FROM core.region r LEFT JOIN own o USING (region_code) WHERE r.level IN ('league', 'region')
), league AS (
  SELECT 'league' AS level, r.region_code, CASE WHEN r.level = 'region' THEN r.name || '本级' ELSE r.name END AS name,
         COALESCE(r.parent_code, r.region_code) AS parent_code, r.level = 'region' AS own_level,
         COALESCE(sum(b.cases), 0) AS cases, COALESCE(sum(b.licenses), 0) AS licenses
  FROM core.region r LEFT JOIN banner b ON b.parent_code = r.region_code
  WHERE r.level IN ('league', 'region') GROUP BY ALL
), region AS (
  SELECT 'region' AS level, r.region_code, r.name, r.parent_code, false AS own_level,
         COALESCE(sum(l.cases), 0) AS cases, COALESCE(sum(l.licenses), 0) AS licenses
  FROM core.region r LEFT JOIN league l ON l.parent_code = r.region_code
  WHERE r.level = 'region' GROUP BY ALL
)
SELECT * FROM banner UNION ALL SELECT * FROM league UNION ALL SELECT * FROM region""",
        "分级汇总：旗县区 → 盟市 → 自治区 的办件量与证照量；盟市、自治区的直办件列为“本级”，每级合计等于下一级之和",
    ),
}


# Shared objects kept as tables rather than views: the roll-up is a statistical report of record
# (what was published, checked level by level), not a live query.
TABLES = ("share.level_rollup",)


def create_views(con, names: list[str] | None = None) -> None:
    for name, (sql, comment) in VIEWS.items():
        if names is None or name in names:
            kind = "TABLE" if name in TABLES else "VIEW"
            schema, table = name.split(".")
            existing = con.execute(
                "SELECT table_type FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
                [schema, table],
            ).fetchone()
            with transaction(con):  # one commit (each writes and syncs the log) for the three
                if existing and ("VIEW" in existing[0]) != (kind == "VIEW"):
                    con.execute(f"DROP {'VIEW' if 'VIEW' in existing[0] else 'TABLE'} {name}")
                con.execute(f"CREATE OR REPLACE {kind} {name} AS {sql}")
                con.execute(f"COMMENT ON {kind} {name} IS '{comment}'")


def fill_workday_calendar(con, first: date, last: date) -> None:
    """core.workday from the Chinese official calendar (statutory holidays and adjusted workdays)."""
    import chinese_calendar

    con.execute(
        "CREATE TABLE IF NOT EXISTS core.workday"
        " (day DATE PRIMARY KEY, is_workday BOOLEAN NOT NULL, workday_no INTEGER NOT NULL)"
    )
    con.execute("COMMENT ON TABLE core.workday IS '国家法定工作日历（含调休）：用于承诺时限的工作日计算'")
    have = con.execute("SELECT min(day), max(day) FROM core.workday").fetchall()[0]
    if have[0] is not None and have[0] <= first and have[1] >= last:
        return
    rows, n, d = [], 0, first
    while d <= last:
        try:
            work = chinese_calendar.is_workday(d)
        except NotImplementedError:  # a year the calendar does not cover yet: Mon–Fri
            work = d.weekday() < 5
        n += work
        rows.append((d, work, n))  # workday_no: working days up to and including d
        d += timedelta(days=1)
    import pyarrow as pa

    days = pa.table({"day": [r[0] for r in rows], "is_workday": [r[1] for r in rows],
                     "workday_no": pa.array([r[2] for r in rows], pa.int32())})
    con.register("hub_days", days)
    try:
        with transaction(con):  # readers see the old calendar or the new one, never none
            con.execute("DELETE FROM core.workday")
            con.execute("INSERT INTO core.workday SELECT day, is_workday, workday_no FROM hub_days")
    finally:
        con.unregister("hub_days")
