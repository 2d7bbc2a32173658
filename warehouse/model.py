"""The shared model of model.md as data: entities, their columns, kinds and vocabularies.

One declaration drives the DDL, the SQL normalisation, the row rules and the Dagster assets, so a
name written here is written once. Names are the contract of model.md: keep them exact.
"""

from __future__ import annotations

from dataclasses import dataclass

# Column kinds decide the normalisation applied before any comparison or key (model.md).
CODE = "code"  # NFKC, trim, remove inner blanks, upper-case
NAME = "name"  # NFKC, trim, collapse white space
TEXT = "text"  # trimmed free text
DATE = "date"
TIMESTAMP = "timestamp"
INTEGER = "integer"
ENUM = "enum"  # mapped to a vocabulary by the stream's `map`

SQL_TYPES = {
    CODE: "VARCHAR",
    NAME: "VARCHAR",
    TEXT: "VARCHAR",
    DATE: "DATE",
    TIMESTAMP: "TIMESTAMP",
    INTEGER: "INTEGER",
    ENUM: "VARCHAR",
}

VOCABULARIES: dict[str, tuple[str, ...]] = {
    "department.kind": ("approval_bureau", "competent", "platform", "other"),
    "department.level": ("region", "league", "banner"),
    "matter.transfer_status": ("transferred", "deferred", "retained"),
    "case.applicant_type": ("legal_person", "natural_person"),
    "case.channel": ("online", "window", "mobile", "self_service"),
    "case.decision": ("approved", "rejected", "withdrawn", "pending"),
    "license.status": ("valid", "suspended", "revoked", "cancelled", "expired"),
    "feedback.kind": ("inspection_pass", "violation", "penalty", "revocation_advice"),
    "evaluation.score": ("1", "2", "3", "4", "5"),
    "evaluation.channel": ("online", "window", "mobile", "self_service"),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    label: str  # Chinese term shown to users (table comments, asset descriptions)
    required: bool = False
    vocabulary: str | None = None  # key into VOCABULARIES for ENUM columns
    checks: tuple[str, ...] = ()  # extra row rules: uscc, id_number, party_code, region, matter, department

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class Entity:
    name: str
    label: str
    key: tuple[str, ...]
    cols: tuple[Column, ...]
    date_order: tuple[tuple[str, str], ...] = ()  # (earlier, later) pairs: `date_order` when reversed
    depends_on: tuple[str, ...] = ()  # reference entities that must load first
    # Columns computed from the canonical ones at merge time: name → (SQL type, expression, label).
    derived: tuple[tuple[str, str, str, str], ...] = ()

    @property
    def columns(self) -> dict[str, Column]:
        return {c.name: c for c in self.cols}

    @property
    def table(self) -> str:
        return f"core.{self.name}"


def _c(name, kind, label, **kw) -> Column:
    return Column(name, kind, label, **kw)


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "department",
            "政府部门",
            ("dept_code",),
            (
                _c("dept_code", CODE, "部门统一社会信用代码", required=True, checks=("uscc",)),
                _c("name", NAME, "部门名称", required=True),
                _c("kind", ENUM, "部门类型", vocabulary="department.kind"),
                _c("region_code", CODE, "行政区划代码", checks=("region",)),
            ),
            derived=(("level", "VARCHAR", "region_level(region_code)", "层级（自治区/盟市/旗县）"),),
        ),
        Entity(
            "matter",
            "权责清单事项",
            ("matter_code", "region_code"),
            (
                _c("matter_code", CODE, "事项编码", required=True),
                _c("name", NAME, "事项名称", required=True),
                _c("matter_type", ENUM, "事项类型"),
                _c("region_code", CODE, "实施区划", required=True, checks=("region",)),
                _c("competent_dept_code", CODE, "主管部门", checks=("department",)),
                _c("approval_dept_code", CODE, "行政审批部门", checks=("department",)),
                _c("transfer_status", ENUM, "划转状态", vocabulary="matter.transfer_status"),
                _c("transferred_on", DATE, "划转日期"),
                _c("legal_basis", TEXT, "设定依据"),
                _c("statutory_days", INTEGER, "法定办结时限"),
                _c("promised_days", INTEGER, "承诺办结时限（工作日）"),
                _c("supervising_dept_code", CODE, "监管部门", checks=("department",)),
            ),
            depends_on=("department",),
        ),
        Entity(
            "case",
            "办件",
            ("case_no",),
            (
                _c("case_no", CODE, "办件编号", required=True),
                _c("matter_code", CODE, "事项编码", required=True, checks=("matter",)),
                _c("applicant_code", CODE, "申请人证件号码", required=True, checks=("party_code",)),
                _c("applicant_type", ENUM, "申请人类型", vocabulary="case.applicant_type"),
                _c("applicant_name", NAME, "申请人名称"),
                _c("handling_dept_code", CODE, "受理部门", checks=("department",)),
                _c("region_code", CODE, "行政区划代码", checks=("region",)),
                _c("channel", ENUM, "办理渠道", vocabulary="case.channel"),
                _c("received_at", TIMESTAMP, "受理时间", required=True),
                _c("decided_at", TIMESTAMP, "办结时间"),
                _c("decision", ENUM, "办理结果", vocabulary="case.decision"),
                _c("promised_days", INTEGER, "承诺时限（工作日）"),
            ),
            date_order=(("received_at", "decided_at"),),
            depends_on=("department", "matter"),
        ),
        Entity(
            "license",
            "证照",
            ("license_no",),
            (
                _c("license_no", CODE, "证照编号", required=True),
                _c("license_type", NAME, "证照类型"),
                _c("matter_code", CODE, "事项编码", checks=("matter",)),
                _c("holder_code", CODE, "持证主体代码", required=True, checks=("party_code",)),
                _c("holder_name", NAME, "持证主体名称"),
                _c("issuing_dept_code", CODE, "发证机关", required=True, checks=("department",)),
                _c("issued_on", DATE, "发证日期", required=True),
                _c("valid_from", DATE, "有效期自"),
                _c("valid_to", DATE, "有效期至"),
                _c("status", ENUM, "证照状态", vocabulary="license.status"),
                _c("case_no", CODE, "办件编号"),
            ),
            date_order=(("valid_from", "valid_to"),),
            depends_on=("department", "matter"),
        ),
        Entity(
            "push",
            "审批信息推送",
            ("push_id",),
            (
                _c("push_id", CODE, "推送编号", required=True),
                _c("case_no", CODE, "办件编号"),
                _c("license_no", CODE, "证照编号"),
                _c("from_dept_code", CODE, "推送部门", checks=("department",)),
                _c("to_dept_code", CODE, "接收（监管）部门", required=True, checks=("department",)),
                _c("pushed_at", TIMESTAMP, "推送时间", required=True),
                _c("acknowledged_at", TIMESTAMP, "签收时间"),
            ),
            depends_on=("department",),
        ),
        Entity(
            "feedback",
            "监管信息反馈",
            ("feedback_id",),
            (
                _c("feedback_id", CODE, "反馈编号", required=True),
                _c("license_no", CODE, "证照编号"),
                _c("holder_code", CODE, "主体代码", checks=("party_code",)),
                _c("from_dept_code", CODE, "反馈（监管）部门", required=True, checks=("department",)),
                _c("to_dept_code", CODE, "接收（审批）部门", checks=("department",)),
                _c("kind", ENUM, "反馈类型", vocabulary="feedback.kind"),
                _c("issued_at", TIMESTAMP, "反馈时间", required=True),
                _c("handled_at", TIMESTAMP, "处理时间"),
                _c("handling_result", TEXT, "处理结果"),
            ),
            depends_on=("department",),
        ),
        Entity(
            "evaluation",
            "好差评",
            ("evaluation_id",),
            (
                _c("evaluation_id", CODE, "评价编号", required=True),
                _c("case_no", CODE, "办件编号", required=True),
                _c("score", ENUM, "评价等级（5 非常满意 … 1 非常不满意）", required=True,
                   vocabulary="evaluation.score"),
                _c("channel", ENUM, "评价渠道", vocabulary="evaluation.channel"),
                _c("evaluated_at", TIMESTAMP, "评价时间"),
                _c("rectified_at", TIMESTAMP, "整改时间"),
            ),
            depends_on=(),
        ),
    )
}

LINEAGE_COLUMNS = ("_source", "_source_key", "_batch_id", "_loaded_at")

QUARANTINE_REASONS = (
    "missing_required",
    "bad_uscc",
    "bad_id_number",
    "bad_date",
    "date_order",
    "unknown_region",
    "unknown_matter",
    "unknown_department",
    "enum_value",
    "duplicate_key",
)

RECOGNITION_FINDINGS = (
    "conflict",
    "duplicate_issuance",
    "orphan_license",
    "standard_deviation",
    "unknown_holder_license",
)

# Entities that other entities refer to load first (sources.md: reference entities first).
LOAD_ORDER = ("department", "matter", "case", "license", "push", "feedback", "evaluation")
