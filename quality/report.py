"""The quality report people open: a one-page summary a department head reads without SQL, beside
the Great Expectations Data Docs of the latest validation of each entity.

Written as static HTML into a folder (README: `data/reports/`): `index.html` is the summary,
`data_docs/index.html` the GX pages.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path

from warehouse.loading import beijing_now

REASON_LABELS = {
    "missing_required": "必填项为空",
    "bad_uscc": "统一社会信用代码校验位错误",
    "bad_id_number": "居民身份证号码校验错误",
    "bad_date": "日期无法解析或不存在",
    "date_order": "日期先后颠倒",
    "unknown_region": "行政区划代码不属内蒙古",
    "unknown_matter": "事项不在权责清单中",
    "unknown_department": "部门未登记",
    "enum_value": "代码值不在映射表中",
    "duplicate_key": "同一来源主键重复且内容不同",
}
FINDING_LABELS = {
    "conflict": "多部门证照信息不一致（互认冲突）",
    "duplicate_issuance": "划转后主管部门仍发证（重复盖章）",
    "orphan_license": "证照无对应的批准办件",
    "standard_deviation": "同一事项各地标准不一",
    "unknown_holder_license": "监管反馈指向未知证照",
}

_latest: dict[str, dict] = {}
_lock = threading.Lock()


def remember_validation(summary: dict) -> None:
    """Keep the latest GX validation of each entity in this process, for the Data Docs."""
    with _lock:
        _latest[summary["entity"]] = summary


def latest_validations() -> list[dict]:
    with _lock:
        return list(_latest.values())


def _table(headers: list[str], rows: list[tuple], empty: str = "无") -> str:
    if not rows:
        return f"<p class='empty'>{html.escape(empty)}</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='num'>{v:,}</td>" if isinstance(v, int) else f"<td>{html.escape(str(v or ''))}</td>"
            for v in row
        ) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_html(con) -> str:
    """The one-page summary, from the warehouse alone."""
    batches = con.execute(
        """SELECT s.label, b._source, count(*), sum(b.extracted), sum(b.loaded), sum(b.quarantined)
           FROM meta.batches b LEFT JOIN meta.sources s USING (_source)
           GROUP BY ALL ORDER BY b._source"""
    ).fetchall()
    by_reason = con.execute(
        "SELECT reason, count(*) FROM quality.quarantine WHERE resolved_at IS NULL"
        " GROUP BY reason ORDER BY count(*) DESC"
    ).fetchall()
    by_department = con.execute(
        """SELECT COALESCE(d.name, s.department) AS department, s.label, q.reason, count(*)
           FROM quality.quarantine q JOIN meta.sources s USING (_source)
           LEFT JOIN core.department d ON d.dept_code = s.department
           WHERE q.resolved_at IS NULL
           GROUP BY ALL ORDER BY 1, 2, 4 DESC"""
    ).fetchall()
    by_finding = con.execute(
        "SELECT finding, count(*) FROM quality.recognition GROUP BY finding ORDER BY count(*) DESC"
    ).fetchall()
    findings_by_department = con.execute(
        """SELECT COALESCE(d.name, l.issuing_dept_code), r.finding, count(*)
           FROM quality.recognition r JOIN core.license l ON r.entity = 'license' AND l.license_no = r.key
           LEFT JOIN core.department d ON d.dept_code = l.issuing_dept_code
           GROUP BY ALL ORDER BY 3 DESC LIMIT 40"""
    ).fetchall()
    checks = con.execute(
        "SELECT asset, check_name, passed, severity, description FROM quality.check_results"
        " WHERE NOT passed ORDER BY severity, asset"
    ).fetchall()
    totals = con.execute(
        "SELECT COALESCE(sum(extracted), 0), COALESCE(sum(loaded), 0), COALESCE(sum(quarantined), 0)"
        " FROM meta.batches"
    ).fetchone()
    reason_rows = [(REASON_LABELS.get(r, r), r, n) for r, n in by_reason]
    finding_rows = [(FINDING_LABELS.get(f, f), f, n) for f, n in by_finding]
    dept_rows = [(dept, label, REASON_LABELS.get(r, r), n) for dept, label, r, n in by_department]
    finding_dept_rows = [(dept, FINDING_LABELS.get(f, f), n) for dept, f, n in findings_by_department]
    check_rows = [(a, c, "阻断" if s == "ERROR" else "告警", d) for a, c, _p, s, d in checks]
    share = f"{100.0 * totals[2] / totals[0]:.2f}" if totals[0] else "0"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>数据质量报告 · Licensing data hub quality report</title>
<style>
 body {{ font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 2em auto; max-width: 1100px;
        color: #222; }}
 h1 {{ font-size: 1.6em; }} h2 {{ font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }}
 table {{ border-collapse: collapse; width: 100%; margin: .5em 0; }}
 th, td {{ border: 1px solid #ddd; padding: 4px 8px; text-align: left; }} th {{ background: #f3f5f8; }}
 td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
 .kpi {{ display: inline-block; margin-right: 2em; font-size: 1.1em; }} .kpi b {{ font-size: 1.5em; }}
 .empty {{ color: #777; }}
</style></head><body>
<h1>行政许可数据共享枢纽 · 数据质量报告</h1>
<p>生成时间 {beijing_now():%Y-%m-%d %H:%M}（北京时间）。未通过规则的记录均进入隔离区并注明原因，不会被静默丢弃。
 <a href="data_docs/index.html">Great Expectations 校验详情（Data Docs）</a></p>
<p><span class="kpi">抽取 <b>{totals[0]:,}</b> 行</span><span class="kpi">入库 <b>{totals[1]:,}</b> 行</span>
<span class="kpi">隔离 <b>{totals[2]:,}</b> 行（{share}%）</span></p>
<h2>待处理的隔离原因（open quarantine, by reason）</h2>
{_table(["原因", "代码", "行数"], reason_rows)}
<h2>跨部门跨层级互认发现（recognition findings）</h2>
{_table(["发现", "代码", "数量"], finding_rows)}
<h2>各部门隔离情况（by department）</h2>
{_table(["部门", "来源系统", "原因", "行数"], dept_rows)}
<h2>互认发现涉及的发证部门（前 40）</h2>
{_table(["发证部门", "发现", "数量"], finding_dept_rows)}
<h2>各来源抽取批次</h2>
{_table(["来源系统", "数据流", "批次数", "抽取", "入库", "隔离"], [tuple(r) for r in batches])}
<h2>未通过的检查</h2>
{_table(["资产", "检查", "级别", "说明"], check_rows, empty="全部检查通过")}
</body></html>
"""


def _kept_validations(out: Path, fresh: list[dict]) -> list:
    """The latest validation of every entity: this run's, else the one kept from an earlier run.

    Each is kept as GX's own JSON under `validations/`, so an incremental run that validated one
    entity still publishes Data Docs for all of them.
    """
    import json

    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema

    folder = out / "validations"
    folder.mkdir(parents=True, exist_ok=True)
    for summary in fresh:
        (folder / f"{summary['entity']}.json").write_text(
            json.dumps(summary["validation_result"].to_json_dict(), ensure_ascii=False), encoding="utf-8"
        )
    this_run = {f"{summary['entity']}.json" for summary in fresh}
    schema = ExpectationSuiteValidationResultSchema()
    kept = []
    for path in sorted(folder.glob("*.json")):
        if path.name in this_run:
            continue
        try:
            kept.append(schema.load(json.loads(path.read_text(encoding="utf-8"))))
        except Exception:  # noqa: BLE001 - a stale or foreign file must not stop the report
            continue
    return kept + [summary["validation_result"] for summary in fresh]


def build_report(con, out_dir: str | Path) -> Path:
    """Write index.html (summary) and data_docs/ (GX) into out_dir; returns the summary's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fresh = latest_validations()
    if fresh:
        from quality.gx_duckdb import build_data_docs

        build_data_docs(_kept_validations(out, fresh), out / "data_docs",
                        fresh=[summary["suite"] for summary in fresh])
    elif not (out / "data_docs" / "index.html").exists():
        (out / "data_docs").mkdir(exist_ok=True)
        (out / "data_docs" / "index.html").write_text(
            "<!DOCTYPE html><meta charset='utf-8'><p>本次运行没有新的批次需要校验。No batch was validated yet.</p>",
            encoding="utf-8",
        )
    index = out / "index.html"
    index.write_text(summary_html(con), encoding="utf-8")
    return index
