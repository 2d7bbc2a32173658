"""Realistic demo source systems for the licensing hub, with a truth file of every injected defect.

`generate_demo(directory)` writes, into one folder:

- ``platform.sqlite`` — the integrated online government service platform (一体化在线政务服务平台):
  办件 ``t_case_info``, 好差评 ``t_evaluation``, the e-licence library ``t_license`` and the
  approval-to-supervision pushes ``t_push`` (English snake_case columns, like the national platform);
- ``zhujian.sqlite`` — the 住房和城乡建设厅 industry approval system (``T_XZXK_XKZXX``, pinyin-initial
  columns, ``YYYYMMDD`` dates, valid-to as ``YYYY年M月D日``);
- ``amr.sqlite`` — the 市场监督管理局 food business licence system (``T_SPJY_XKZ``; here ``YXQZ``
  means 有效期自 and ``YXQJZ`` 有效期至, and the status codes are letters);
- ``exchange/`` — a front-end exchange folder (前置机交换目录) of GB18030 CSV files: departments,
  the powers-and-responsibilities list with transfer state, and supervision feedback;
- ``sources.yaml`` declaring all of it (sources.md), and
- ``truth.csv`` — one line per injected defect (quarantine reason or recognition finding of
  model.md), plus ``not_a_defect`` lines for look-alikes that must load cleanly.

Every row not listed in truth.csv is valid: check characters, regions, matters, departments, dates
in order, mapped codes, no duplicate keys and no disagreement between sources.

Deterministic for a given seed; rows are generated and written in chunks so that a million cases
fit in bounded memory. Plain Python (stdlib + numpy), no Dagster.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random

import numpy as np

__all__ = [
    "DEFAULT_SCALE",
    "generate_demo",
    "is_valid_id_number",
    "is_valid_uscc",
    "normalize_code",
]

DEFAULT_SCALE = 20_000  # cases at default scale

REFERENCE_DIR = Path(__file__).parent.parent / "warehouse" / "reference"
REGIONS_CSV = REFERENCE_DIR / "gbt2260_150000.csv"
STAT_ZONES_CSV = REFERENCE_DIR / "stat_only_zones_150000.csv"

CHUNK = 50_000  # cases per generation chunk
FLUSH = 20_000  # rows buffered per table before executemany

# ---------------------------------------------------------------------------------------------------
# Identifier arithmetic (GB 32100-2015, GB 11714-1997, GB 11643-1999)

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VAL = {c: i for i, c in enumerate(USCC_CHARSET)}
_USCC_W = [pow(3, i, 31) for i in range(17)]
_ORG_W = [3, 7, 9, 10, 5, 8, 4, 2]
_ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def uscc_check_char(body17: str) -> str:
    total = sum(_USCC_VAL[c] * w for c, w in zip(body17, _USCC_W))
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(code: str | None) -> bool:
    """GB 32100-2015: 18 characters over the 31-character set, MOD 31 check character."""
    if not code or len(code) != 18 or any(c not in _USCC_VAL for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def _org_check_char(body8: str) -> str:
    """GB 11714-1997 organisation code check character (the 9th character)."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, _ORG_W))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def id_check_char(body17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(body17, _ID_W)) % 11]


def is_valid_id_number(code: str | None) -> bool:
    """GB 11643-1999: 17 digits with a real birth date, ISO 7064 MOD 11-2 check character."""
    if not code or len(code) != 18 or not code[:17].isdigit() or code[17] not in "0123456789X":
        return False
    try:
        born = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= date.today():
        return False
    return id_check_char(code[:17]) == code[17]


def normalize_code(value: str | None) -> str:
    """Normalised business key: NFKC, trim, remove inner blanks, upper-case (model.md)."""
    if value is None:
        return ""
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).upper()


def _renamed(name: str) -> str:
    """The same company under a changed legal-form suffix (a real, not a cosmetic, difference)."""
    if name.endswith("有限责任公司"):
        return name[: -len("有限责任公司")] + "有限公司"
    return name[: -len("有限公司")] + "有限责任公司"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# ---------------------------------------------------------------------------------------------------
# Calendar tables: every date and time string is a list lookup (fast at a million rows)

EPOCH = date(2015, 1, 1)
LAST = date(2036, 12, 31)
WINDOW_START = date(2021, 1, 1)  # cases received from …
WINDOW_END = date(2024, 5, 31)  # … to (the demo's "today" is 2024-06-01)
LEGACY_START = date(2017, 1, 1)

_N_DAYS = (LAST - EPOCH).days + 1
_DATES = [EPOCH + timedelta(days=i) for i in range(_N_DAYS)]
ISO = [d.isoformat() for d in _DATES]
COMPACT = [d.strftime("%Y%m%d") for d in _DATES]
CN = [f"{d.year}年{d.month}月{d.day}日" for d in _DATES]
SLASH = [f"{d.year}/{d.month}/{d.day}" for d in _DATES]
TIMES = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]
UNIX_DAY0 = (EPOCH - date(1970, 1, 1)).days
D_START = (WINDOW_START - EPOCH).days
D_END = (WINDOW_END - EPOCH).days
D_LEGACY = (LEGACY_START - EPOCH).days
NEVER = 10**9  # "no transfer" day


def _day(d: date) -> int:
    return (d - EPOCH).days


_YEARS_CACHE: dict[tuple[int, int], int] = {}


def _plus_years_minus_one(day: int, years: int) -> int:
    """Last valid day of a licence issued on `day` for `years` years."""
    key = (day, years)
    out = _YEARS_CACHE.get(key)
    if out is None:
        d = _DATES[day]
        try:
            end = d.replace(year=d.year + years)
        except ValueError:  # 29 February
            end = d.replace(year=d.year + years, day=28)
        out = _YEARS_CACHE[key] = min(_day(end) - 1, _N_DAYS - 1)
    return out


def _dt(day: int, sec: int) -> str:
    return ISO[day] + " " + TIMES[sec]


_IMPOSSIBLE = [(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)]


def _bad_ymd(rnd: Random, year: int) -> tuple[int, int, int]:
    """A date that does not exist."""
    if rnd.random() < 0.25 and year % 4 != 0:
        return year, 2, 29
    m, d = rnd.choice(_IMPOSSIBLE)
    return year, m, d


# ---------------------------------------------------------------------------------------------------
# Domain catalogue

ZJ, AMR = "zj", "amr"


@dataclass(frozen=True)
class Matter:
    industry: str
    name: str
    license_type: str
    prefix: str
    years: int
    statutory: int
    basis: str
    matter_type: str
    popularity: float
    banner_level: bool | None = None  # None: decided by the generator


_FOOD_RULE = "《内蒙古自治区食品生产加工小作坊和食品摊贩管理条例》"
MATTERS: list[Matter] = [
    # 住房和城乡建设
    Matter(ZJ, "建筑工程施工许可", "建筑工程施工许可证", "JS", 3, 7, "《中华人民共和国建筑法》第七条",
           "行政许可", 10, True),
    Matter(ZJ, "建筑业企业资质核准（施工总承包三级）", "建筑业企业资质证书", "ZZ", 5, 20,
           "《中华人民共和国建筑法》第十三条；《建筑业企业资质管理规定》", "行政许可", 3),
    Matter(ZJ, "建筑业企业资质核准（专业承包）", "建筑业企业资质证书", "ZZ", 5, 20,
           "《中华人民共和国建筑法》第十三条；《建筑业企业资质管理规定》", "行政许可", 3),
    Matter(ZJ, "商品房预售许可", "商品房预售许可证", "YS", 3, 10, "《中华人民共和国城市房地产管理法》第四十五条",
           "行政许可", 5),
    Matter(ZJ, "燃气经营许可", "燃气经营许可证", "RQ", 3, 20, "《城镇燃气管理条例》第十五条", "行政许可", 2),
    Matter(ZJ, "房地产开发企业资质核定（二级及以下）", "房地产开发企业资质证书", "FK", 3, 20,
           "《城市房地产开发经营管理条例》第九条", "行政许可", 2),
    Matter(ZJ, "城市建筑垃圾处置核准", "城市建筑垃圾处置核准证", "LJ", 1, 20,
           "《国务院对确需保留的行政审批项目设定行政许可的决定》第101项", "行政许可", 2),
    Matter(ZJ, "城镇污水排入排水管网许可", "排水许可证", "PS", 5, 20, "《城镇排水与污水处理条例》第二十一条",
           "行政许可", 3),
    Matter(ZJ, "工程监理企业资质认定", "工程监理企业资质证书", "JL", 5, 20, "《建设工程质量管理条例》第三十四条",
           "行政许可", 1),
    Matter(ZJ, "建设工程质量检测机构资质核准", "建设工程质量检测机构资质证书", "JC", 3, 20,
           "《建设工程质量管理条例》第三十一条", "行政许可", 1),
    Matter(ZJ, "建筑施工企业安全生产许可", "安全生产许可证", "AQ", 3, 45, "《安全生产许可证条例》第二条",
           "行政许可", 2),
    Matter(ZJ, "建设工程勘察设计资质认定", "工程设计资质证书", "SJ", 5, 20, "《建设工程勘察设计管理条例》第八条",
           "行政许可", 1),
    Matter(ZJ, "城市道路占用挖掘审批", "城市道路占用挖掘许可证", "DL", 1, 20, "《城市道路管理条例》第三十条",
           "行政许可", 4, True),
    Matter(ZJ, "特殊车辆在城市道路上行驶审批", "特殊车辆通行证", "TX", 1, 20, "《城市道路管理条例》第二十八条",
           "行政许可", 2),
    Matter(ZJ, "改变绿化规划、绿化用地使用性质审批", "绿化审批决定书", "LH", 2, 20, "《城市绿化条例》第二十条",
           "行政许可", 1),
    Matter(ZJ, "建设工程消防设计审查", "特殊建设工程消防设计审查意见书", "XF", 3, 15,
           "《中华人民共和国消防法》第十一条", "行政许可", 3),
    Matter(ZJ, "建设工程消防验收", "特殊建设工程消防验收意见书", "XY", 3, 15, "《中华人民共和国消防法》第十三条",
           "行政许可", 3),
    Matter(ZJ, "拆除、改动城镇排水与污水处理设施审核", "排水设施拆改审批决定书", "PC", 1, 20,
           "《城镇排水与污水处理条例》第四十三条", "行政许可", 1),
    Matter(ZJ, "燃气经营者改动市政燃气设施审批", "燃气设施改动审批决定书", "RG", 1, 20,
           "《城镇燃气管理条例》第三十八条", "行政许可", 1),
    Matter(ZJ, "建筑起重机械使用登记", "建筑起重机械使用登记证", "QZ", 5, 7, "《建设工程安全生产管理条例》第三十五条",
           "行政确认", 2),
    # 市场监督管理
    Matter(AMR, "食品经营许可（新办）", "食品经营许可证", "JY", 5, 20, "《中华人民共和国食品安全法》第三十五条",
           "行政许可", 10, True),
    Matter(AMR, "食品经营许可（延续）", "食品经营许可证", "JY", 5, 20, "《中华人民共和国食品安全法》第三十五条",
           "行政许可", 4, True),
    Matter(AMR, "食品生产许可", "食品生产许可证", "SC", 5, 20, "《中华人民共和国食品安全法》第三十五条",
           "行政许可", 3),
    Matter(AMR, "食品生产加工小作坊登记", "食品小作坊登记证", "ZF", 3, 15, _FOOD_RULE + "第九条", "行政许可", 2),
    Matter(AMR, "小餐饮经营许可", "小餐饮经营许可证", "XC", 3, 15, _FOOD_RULE + "第二十一条", "行政许可", 3, True),
    Matter(AMR, "食品摊贩登记", "食品摊贩登记卡", "TF", 1, 10, _FOOD_RULE + "第三十一条", "行政确认", 2, True),
    Matter(AMR, "特种设备使用登记", "特种设备使用登记证", "TS", 5, 15, "《中华人民共和国特种设备安全法》第三十三条",
           "行政许可", 3),
    Matter(AMR, "特种设备安装改造修理许可", "特种设备生产许可证", "TA", 4, 30,
           "《中华人民共和国特种设备安全法》第十八条", "行政许可", 1),
    Matter(AMR, "重要工业产品生产许可", "工业产品生产许可证", "XK", 5, 60,
           "《中华人民共和国工业产品生产许可证管理条例》第二条", "行政许可", 1, False),
    Matter(AMR, "计量标准器具核准", "计量标准考核证书", "JB", 4, 20, "《中华人民共和国计量法》第六条", "行政许可", 1),
    Matter(AMR, "检验检测机构资质认定", "检验检测机构资质认定证书", "JD", 6, 20, "《中华人民共和国认证认可条例》第十六条",
           "行政许可", 1, False),
    Matter(AMR, "药品零售企业经营许可", "药品经营许可证", "YP", 5, 30, "《中华人民共和国药品管理法》第五十一条",
           "行政许可", 3),
    Matter(AMR, "医疗器械经营许可（第三类）", "医疗器械经营许可证", "QX", 5, 20, "《医疗器械监督管理条例》第四十二条",
           "行政许可", 2),
    Matter(AMR, "第二类医疗器械经营备案", "第二类医疗器械经营备案凭证", "BA", 5, 5, "《医疗器械监督管理条例》第四十一条",
           "其他行政权力", 2),
    Matter(AMR, "承担国家法定计量检定机构任务授权", "计量授权证书", "JQ", 5, 20, "《中华人民共和国计量法》第二十条",
           "行政许可", 1),
    Matter(AMR, "计量器具型式批准", "计量器具型式批准证书", "XS", 5, 20, "《中华人民共和国计量法实施细则》第十五条",
           "行政许可", 1),
    Matter(AMR, "广告发布登记", "广告发布登记证", "GG", 3, 20, "《中华人民共和国广告法》第二十九条", "行政许可", 1),
    Matter(AMR, "特种设备检验检测机构核准", "特种设备检验检测机构核准证", "TJ", 4, 30,
           "《中华人民共和国特种设备安全法》第五十条", "行政许可", 1),
    Matter(AMR, "移动式压力容器充装许可", "移动式压力容器充装许可证", "CZ", 4, 30,
           "《中华人民共和国特种设备安全法》第四十九条", "行政许可", 1),
]
MATTER_CATEGORY = {ZJ: "109", AMR: "117"}
MATTER_TYPES = {"行政许可": "licensing", "行政确认": "confirmation", "其他行政权力": "other"}

DEPT_KIND_CODES = {"approval_bureau": "01", "competent": "02", "platform": "03", "other": "09"}
PLATFORM_STATUS = ["01", "02", "03", "04"]  # valid, suspended, revoked, cancelled
ZJ_STATUS = ["1", "4", "2", "3"]  # same order
AMR_STATUS = ["A", "B", "C", "D"]
CHANNELS = ["1", "2", "3", "4"]  # online, window, mobile, self-service
FEEDBACK_KINDS = ["01", "02", "03", "04"]
FEEDBACK_RESULTS = ["已签收，纳入监管档案", "已责令限期整改并复查", "已依法作出行政处罚", "已启动撤销许可程序"]

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤乔云"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏海峰晓东雪梅丹文博宇浩然欣怡子涵佳琪思远"
_MONGOL = [
    "巴特尔", "其其格", "乌云", "额尔敦", "斯琴", "宝音", "那日苏", "图雅", "苏和", "阿拉坦", "孟和", "萨仁",
    "朝鲁", "乌兰", "达来", "格日勒", "敖登", "哈斯", "包金山", "白音仓", "特木尔", "娜仁花", "金花", "巴雅尔",
]
_ZIHAO = (
    "恒达鑫盛源泰宏远华兴隆昌顺通安康瑞祥丰和锦博诚信德嘉美佳金利众正天宇新海蒙草原北疆青城鹿塞亿中大强伟晟睿辰"
    "宸旭阳光明辉腾飞凯越驰骏峰岳川江河湖林森绿蓝星月融汇广益聚贤永福万豪创卓邦"
)
_INDUSTRY_WORDS = {
    ZJ: ["建筑工程", "建设工程", "建筑安装工程", "房地产开发", "市政工程", "燃气", "建筑劳务", "装饰工程",
         "路桥工程", "工程监理", "工程检测", "园林绿化工程"],
    AMR: ["餐饮管理", "食品", "商贸", "超市", "乳业", "肉食品", "医药连锁", "药房", "医疗器械", "电梯工程",
          "酒店管理", "牛羊肉加工", "饮品", "粮油"],
}


# ---------------------------------------------------------------------------------------------------
# Generation


@dataclass
class _Dept:
    code: str
    name: str
    kind: str
    region: str


@dataclass
class _Entry:
    """One row of the powers-and-responsibilities list: a matter implemented in a region."""

    m: int
    region: str
    league: int  # index into leagues, -1 for region level
    status: str  # transferred | deferred | retained
    tday: int  # transfer day, NEVER when not transferred
    competent: str
    bureau: str
    promised: int
    weight: float
    # what the exchange file says (differs from the matter only for standard_deviation rows)
    name: str = ""
    statutory: int = 0
    basis: str = ""


@dataclass
class _Table:
    con: sqlite3.Connection
    name: str
    columns: tuple[str, ...]
    rows: list = field(default_factory=list)

    def add(self, row) -> None:
        self.rows.append(row)
        if len(self.rows) >= FLUSH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            marks = ", ".join("?" * len(self.columns))
            self.con.executemany(f"INSERT INTO {self.name} VALUES ({marks})", self.rows)
            self.rows = []


_DDL = {
    "t_case_info": (
        "project_no TEXT, task_code TEXT, apply_name TEXT, apply_type TEXT, apply_cardnumber TEXT, "
        "handle_dept_code TEXT, area_code TEXT, channel_code TEXT, receive_time TEXT, result_time TEXT, "
        "result_code TEXT, promise_day INTEGER, update_time TEXT"
    ),
    "t_evaluation": (
        "evaluation_id TEXT, project_no TEXT, evaluate_level TEXT, channel_code TEXT, evaluate_time INTEGER, "
        "rectify_time TEXT, update_time TEXT"
    ),
    "t_license": (
        "license_code TEXT, license_type TEXT, holder_name TEXT, holder_code TEXT, issue_dept_code TEXT, "
        "issue_date TEXT, valid_begin TEXT, valid_end TEXT, status TEXT, project_no TEXT, update_time TEXT"
    ),
    "t_push": (
        "push_id TEXT, project_no TEXT, license_code TEXT, from_dept_code TEXT, to_dept_code TEXT, "
        "push_time TEXT, ack_time TEXT, update_time TEXT"
    ),
    "T_XZXK_XKZXX": (
        "XKZBH TEXT, XKZLX TEXT, SXBM TEXT, TYSHXYDM TEXT, QYMC TEXT, FZJG TEXT, FZRQ TEXT, YXQQ TEXT, "
        "YXQZ TEXT, ZT TEXT, BJBH TEXT, GXSJ TEXT"
    ),
    "T_SPJY_XKZ": (
        "XKZBH TEXT, TYSHXYDM TEXT, QYMC TEXT, FDDBR TEXT, SXBM TEXT, FZJG TEXT, FZRQ TEXT, YXQZ TEXT, "
        "YXQJZ TEXT, ZT TEXT, BJBH TEXT, GXSJ TEXT"
    ),
}
_CURSORS = {
    "t_case_info": "update_time",
    "t_evaluation": "update_time",
    "t_license": "update_time",
    "t_push": "update_time",
    "T_XZXK_XKZXX": "GXSJ",
    "T_SPJY_XKZ": "GXSJ",
}

DEPARTMENTS_FILE = "departments_20240101.csv"
MATTERS_FILE = "matters_20240101.csv"
FEEDBACK_FILE = "feedback_20240601.csv"
DEPARTMENT_HEADER = ["统一社会信用代码", "部门名称", "部门类型", "行政区划代码"]
MATTER_HEADER = ["事项编码", "事项名称", "事项类型", "实施区划", "主管部门", "审批部门", "划转状态", "划转日期",
                 "设定依据", "法定时限", "承诺时限", "监管部门"]
FEEDBACK_HEADER = ["反馈编号", "证照编号", "统一社会信用代码", "反馈部门", "接收部门", "反馈类型", "反馈时间",
                   "处理时间", "处理结果"]
TRUTH_HEADER = ["kind", "code", "entity", "source", "key", "fields", "note"]

# Defects per stream: (period, reasons). Every `period`-th eligible row carries one defect, the
# reasons taken in turn, so each reason appears even at small scales.
CASE_DEFECT_RATE = 0.03
CASE_REASONS = ["bad_uscc", "bad_id_number", "missing_required", "unknown_region", "unknown_matter",
                "unknown_department", "enum_value", "date_order", "bad_date"]
DEFECTS = {
    "evaluations": (50, ["enum_value", "missing_required", "bad_date"]),
    "platform_licenses": (40, ["bad_uscc", "bad_date", "enum_value", "unknown_department", "date_order",
                               "missing_required"]),
    "zhujian": (33, ["bad_uscc", "bad_date", "enum_value", "missing_required", "unknown_department",
                     "unknown_matter", "date_order", "duplicate_key"]),
    "amr": (33, ["bad_uscc", "bad_date", "enum_value", "missing_required", "date_order", "duplicate_key",
                 "unknown_department"]),
    "pushes": (50, ["missing_required", "unknown_department", "bad_date"]),
    "feedback": (50, ["enum_value", "missing_required", "bad_date"]),
}
CONFLICT_PERIOD, CONFLICT_PHASE = 100, 37  # among platform copies of zhujian / amr licences
FULLWIDTH_PERIOD, FULLWIDTH_PHASE = 200, 111  # ~0.5 %; disjoint from the conflict rows
IDENTICAL_PERIOD, IDENTICAL_PHASE = 300, 150  # exact repeats in amr (not defects)


class _Generator:
    def __init__(self, directory: Path, scale: int, seed: int):
        if scale < 1:
            raise ValueError("scale must be a positive number of cases")
        self.dir = directory
        self.scale = scale
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.rnd = Random(seed)
        self.truth: list[tuple[str, ...]] = []
        self.counters: dict[str, int] = {}
        self.turns: dict[str, int] = {}
        self.lic_seq = 0
        self.push_seq = 0
        self.fb_seq = 0
        self.eval_seq = 0
        self.copy_seq = 0
        self.phantom_seq = 0
        self.pending_vt = 0
        self._load_regions()
        self._build_departments()
        self._build_catalogue()
        self._build_pools()

    # ------------------------------------------------------------------ reference data

    def _load_regions(self) -> None:
        with REGIONS_CSV.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.region_name = {r["code"]: r["name"] for r in rows}
        self.region_level = {r["code"]: r["level"] for r in rows}
        self.leagues = [r["code"] for r in rows if r["level"] in ("prefecture_city", "league")]
        self.league_of: dict[str, str] = {}
        self.children: dict[str, list[str]] = {lg: [] for lg in self.leagues}
        for r in rows:
            if r["parent_code"] in self.children:
                self.children[r["parent_code"]].append(r["code"])
                self.league_of[r["code"]] = r["parent_code"]
        for lg in self.leagues:
            self.league_of[lg] = lg
        self.stat_zones: dict[str, str] = {}
        if STAT_ZONES_CSV.exists():
            with STAT_ZONES_CSV.open(encoding="utf-8") as f:
                for r in csv.DictReader(f):
                    self.stat_zones[r["parent_code"]] = r["code"]

    def _banner_label(self, code: str) -> str:
        name = self.region_name[code]
        if self.region_level[code] == "district":
            return self.region_name[self.league_of[code]] + name
        return name

    def _new_dept_code(self, region: str) -> str:
        while True:
            body = "11" + region + "MB" + f"{self._rr(10**6):06d}"
            body += _org_check_char(body[8:16])
            code = body + uscc_check_char(body)
            if code not in self.used_dept_codes:
                self.used_dept_codes.add(code)
                return code

    def _build_departments(self) -> None:
        self.used_dept_codes: set[str] = set()
        depts: list[_Dept] = []

        def add(region: str, name: str, kind: str) -> str:
            code = self._new_dept_code(region)
            depts.append(_Dept(code, name, kind, region))
            return code

        self.platform_dept = add("150000", "内蒙古自治区政务服务局", "platform")
        self.comp: dict[tuple[str, str], str] = {}
        self.bureau: dict[str, str] = {}
        self.comp[(ZJ, "150000")] = add("150000", "内蒙古自治区住房和城乡建设厅", "competent")
        self.comp[(AMR, "150000")] = add("150000", "内蒙古自治区市场监督管理局", "competent")
        add("150000", "内蒙古自治区人民政府办公厅", "other")
        for lg in self.leagues:
            nm = self.region_name[lg]
            self.comp[(ZJ, lg)] = add(lg, nm + "住房和城乡建设局", "competent")
            self.comp[(AMR, lg)] = add(lg, nm + "市场监督管理局", "competent")
            self.bureau[lg] = add(lg, nm + "行政审批和政务服务局", "approval_bureau")
        # approval bureaus in ~30 banners/counties: two per league, the rest at random
        picked: list[str] = []
        for lg in self.leagues:
            kids = sorted(self.children[lg])
            picked += self.rnd.sample(kids, min(2, len(kids)))
        rest = sorted(set(self.league_of) - set(self.leagues) - set(picked))
        picked += self.rnd.sample(rest, 30 - len(picked))
        self.bureau_banners = sorted(picked)
        self.no_bureau_banners = sorted(set(rest) - set(picked))
        for b in self.bureau_banners:
            label = self._banner_label(b)
            self.bureau[b] = add(b, label + "行政审批和政务服务局", "approval_bureau")
            self.comp[(ZJ, b)] = add(b, label + "住房和城乡建设局", "competent")
            self.comp[(AMR, b)] = add(b, label + "市场监督管理局", "competent")
        self.depts = depts
        self.dept_by_code = {d.code: d for d in depts}
        # valid organ codes that are not registered departments (for unknown_department defects)
        self.unknown_depts = [self._new_dept_code(self.rnd.choice(self.leagues)) for _ in range(12)]

    def _matter_code(self, m: int) -> str:
        mt = MATTERS[m]
        item = sum(1 for x in MATTERS[:m] if x.industry == mt.industry) + 1
        return f"000{MATTER_CATEGORY[mt.industry]}{item:03d}000"

    def _build_catalogue(self) -> None:
        rnd = self.rnd
        self.matter_codes = [self._matter_code(m) for m in range(len(MATTERS))]
        self.unknown_matters = [f"000{MATTER_CATEGORY[ind]}{900 + i:03d}000" for ind in (ZJ, AMR) for i in range(4)]
        # transfer waves: leagues first (2020 H2 – 2021 H1), banners later
        wave: dict[str, int] = {}
        for lg in self.leagues:
            wave[lg] = _day(date(2020, 7, 1)) + self._rr(270)
        for b in self.bureau_banners:
            wave[b] = min(wave[self.league_of[b]] + 30 + self._rr(390), _day(date(2022, 9, 30)))
        entries: list[_Entry] = []
        seen_ind: dict[str, int] = {ZJ: 0, AMR: 0}
        for m, mt in enumerate(MATTERS):
            seen_ind[mt.industry] += 1
            at_region = seen_ind[mt.industry] <= 3 or rnd.random() < 0.35
            at_banner = mt.banner_level if mt.banner_level is not None else rnd.random() < 0.5
            regions = (["150000"] if at_region else []) + list(self.leagues)
            if at_banner:
                regions += [b for b in self.bureau_banners if rnd.random() < 0.9]
            for reg in regions:
                level = "region" if reg == "150000" else "league" if reg in self.leagues else "banner"
                promised = max(1, round(mt.statutory * rnd.uniform(0.2, 0.6)))
                if reg == "150000":
                    status, tday = "retained", NEVER
                else:
                    u = rnd.random()
                    if u < 0.84:
                        status = "transferred"
                        off = 0 if rnd.random() < 0.7 else 30 + self._rr(335)
                        tday = min(wave[reg] + off, _day(date(2022, 12, 31)))
                    else:
                        status, tday = ("deferred" if u < 0.93 else "retained"), NEVER
                lw = {"region": 20.0, "league": 3.0, "banner": 1.5}[level]
                entries.append(_Entry(
                    m=m, region=reg,
                    league=-1 if reg == "150000" else self.leagues.index(self.league_of[reg]),
                    status=status, tday=tday, competent=self.comp[(mt.industry, reg)],
                    bureau=self.bureau[reg] if status == "transferred" else "",
                    promised=promised, weight=mt.popularity * lw,
                    name=mt.name, statutory=mt.statutory, basis=mt.basis,
                ))
        self.entries = entries
        n = len(entries)
        self.e_weight = np.array([e.weight for e in entries])
        self.e_weight /= self.e_weight.sum()
        # entries a competent department may issue on without a case (legacy licences)
        self.legacy_entries = [i for i, e in enumerate(entries)
                               if MATTERS[e.m].industry == ZJ or MATTERS[e.m].prefix == "JY"]
        lw = np.array([entries[i].weight for i in self.legacy_entries])
        self.legacy_p = lw / lw.sum()
        self.transferred_zj = [i for i, e in enumerate(entries)
                               if e.status == "transferred" and MATTERS[e.m].industry == ZJ]
        self.untransferred_zj = [i for i, e in enumerate(entries)
                                 if e.status != "transferred" and MATTERS[e.m].industry == ZJ]
        assert n and self.transferred_zj and self.untransferred_zj

    def _build_pools(self) -> None:
        """Market entities (USCC, name, legal representative) and residents, per league."""
        rnd = self.rnd
        n_comp = max(1200, self.scale // 5)
        n_pers = max(600, self.scale // 8)
        big = {"150100": 3, "150200": 3, "150600": 2.5, "150400": 2.5, "150500": 1.5}
        share = np.array([big.get(lg, 1.0) for lg in self.leagues])
        share /= share.sum()
        seen: set[str] = set()
        self.companies: list[dict[str, list[tuple[str, str, str]]]] = []
        self.persons: list[list[tuple[str, str]]] = []
        alphabet = USCC_CHARSET[10:]  # letters without I O S V Z
        for li, lg in enumerate(self.leagues):
            areas = [lg] + self.children[lg]
            per_ind: dict[str, list[tuple[str, str, str]]] = {}
            for ind in (ZJ, AMR):
                pool = []
                for _ in range(max(40, int(n_comp * share[li] / 2))):
                    while True:
                        reg = rnd.choice(areas)
                        org = "MA" + "".join(rnd.choice(USCC_CHARSET if k else alphabet) for k in range(6))
                        body = "91" + reg + org + _org_check_char(org)
                        code = body + uscc_check_char(body)
                        if code not in seen:
                            seen.add(code)
                            break
                    place = self.region_name[lg] if self.region_level[reg] == "district" or reg == lg \
                        else self.region_name[reg]
                    name = place + rnd.choice(_ZIHAO) + rnd.choice(_ZIHAO) + rnd.choice(_INDUSTRY_WORDS[ind]) + \
                        ("有限公司" if rnd.random() < 0.85 else "有限责任公司")
                    pool.append((code, name, self._person_name()))
                per_ind[ind] = pool
            self.companies.append(per_ind)
            people = []
            for _ in range(max(30, int(n_pers * share[li]))):
                while True:
                    born = date(1955, 1, 1) + timedelta(days=self._rr(17000))
                    body = rnd.choice(areas) + born.strftime("%Y%m%d") + f"{self._rr(1000):03d}"
                    code = body + id_check_char(body)
                    if code not in seen:
                        seen.add(code)
                        break
                people.append((code, self._person_name()))
            self.persons.append(people)

    def _person_name(self) -> str:
        rnd = self.rnd
        if rnd.random() < 0.15:
            return rnd.choice(_MONGOL)
        return rnd.choice(_SURNAMES) + "".join(rnd.choice(_GIVEN) for _ in range(1 if rnd.random() < 0.35 else 2))

    def _rr(self, a: int, b: int | None = None) -> int:
        """A random integer in [a, b) (or [0, a)); cheaper than Random.randrange at a million rows."""
        if b is None:
            a, b = 0, a
        return a + int(self.rnd.random() * (b - a))

    # ------------------------------------------------------------------ defect bookkeeping

    def _defect(self, stream: str) -> str | None:
        """The defect the next eligible row of `stream` carries, or None."""
        period, reasons = DEFECTS[stream]
        c = self.counters.get(stream, 0)
        self.counters[stream] = c + 1
        if c % period != period // 2:
            return None
        t = self.turns.get(stream, 0)
        self.turns[stream] = t + 1
        return reasons[t % len(reasons)]

    def _truth(self, kind, code, entity, source, key, fields="", note="") -> None:
        self.truth.append((kind, code, entity, source, key, fields, note))

    def _bad_uscc(self, code: str) -> str:
        if self.rnd.random() < 0.2:  # a character outside the GB 32100 set (O for 0)
            i = code.index("0", 2) if "0" in code[2:17] else 9
            return code[:i] + "O" + code[i + 1:]
        good = code[17]
        return code[:17] + self.rnd.choice([c for c in USCC_CHARSET if c != good])

    def _bad_id(self, code: str) -> tuple[str, str]:
        if self.rnd.random() < 0.5:
            good = code[17]
            return code[:17] + self.rnd.choice([c for c in _ID_CHECK if c != good]), "wrong check digit"
        y, m, d = _bad_ymd(self.rnd, int(code[6:10]))
        body = code[:6] + f"{y:04d}{m:02d}{d:02d}" + code[14:17]
        return body + id_check_char(body), "impossible birth date (check digit recomputed)"

    def _bad_date_parts(self, day: int) -> tuple[int, int, int]:
        return _bad_ymd(self.rnd, _DATES[day].year)

    # ------------------------------------------------------------------ output

    def _open(self) -> None:
        d = self.dir
        d.mkdir(parents=True, exist_ok=True)
        for name in ("platform.sqlite", "zhujian.sqlite", "amr.sqlite"):
            for suffix in ("", "-journal", "-wal", "-shm"):
                p = d / (name + suffix)
                if p.exists():
                    p.unlink()
        if (d / "exchange").exists():
            shutil.rmtree(d / "exchange")
        for name in ("sources.yaml", "truth.csv"):
            if (d / name).exists():
                (d / name).unlink()
        (d / "exchange").mkdir()
        self.cons = {}
        for name in ("platform", "zhujian", "amr"):
            con = sqlite3.connect(d / f"{name}.sqlite")
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            self.cons[name] = con
        tables = {"t_case_info": "platform", "t_evaluation": "platform", "t_license": "platform",
                  "t_push": "platform", "T_XZXK_XKZXX": "zhujian", "T_SPJY_XKZ": "amr"}
        self.tables: dict[str, _Table] = {}
        for table, db in tables.items():
            con = self.cons[db]
            con.execute(f"CREATE TABLE {table} ({_DDL[table]})")
            cols = tuple(c.split()[0] for c in _DDL[table].split(", "))
            self.tables[table] = _Table(con, table, cols)
        self.fb_file = (d / "exchange" / FEEDBACK_FILE).open("w", encoding="gb18030", newline="")
        self.fb_writer = csv.writer(self.fb_file)
        self.fb_writer.writerow(FEEDBACK_HEADER)
        self.fb_rows = 0

    def _close(self) -> None:
        for table in self.tables.values():
            table.flush()
        for table, cursor in _CURSORS.items():
            t = self.tables[table]
            t.con.execute(f"CREATE INDEX ix_{table.lower()}_{cursor.lower()} ON {table} ({cursor})")
        for con in self.cons.values():
            con.commit()
            con.close()
        self.fb_file.close()

    # ------------------------------------------------------------------ the run

    def run(self) -> Path:
        self._open()
        try:
            self._write_departments()
            self._write_matters()
            done = 0
            first = True
            while done < self.scale:
                n = min(CHUNK, self.scale - done)
                self._chunk(done, n, first)
                done += n
                first = False
        finally:
            self._close()
        self._write_truth()
        return self._write_sources_yaml()

    # ------------------------------------------------------------------ reference files

    def _write_departments(self) -> None:
        rows = [[d.code, d.name, DEPT_KIND_CODES[d.kind], d.region] for d in self.depts]
        src = "exchange.departments"
        # defects: extra rows that nothing refers to
        lg = self.leagues[3]
        code = self._new_dept_code(lg)
        bad = self._bad_uscc(code)
        rows.insert(len(rows) // 3, [bad, self.region_name[lg] + "营商环境建设局", "09", lg])
        self._truth("quarantine", "bad_uscc", "department", src, bad, note="department code with a wrong check char")
        code = self._new_dept_code("150100")
        rows.insert(len(rows) // 2, [code, "呼和浩特经济技术开发区行政审批局", "01", "159999"])
        self._truth("quarantine", "unknown_region", "department", src, code, note="region 159999 does not exist")
        code = self._new_dept_code(self.leagues[5])
        rows.insert(2 * len(rows) // 3, [code, "", "02", self.leagues[5]])
        self._truth("quarantine", "missing_required", "department", src, code, note="empty department name")
        code = self._new_dept_code(self.leagues[7])
        rows.append([code, self.region_name[self.leagues[7]] + "数据资源局", "07", self.leagues[7]])
        self._truth("quarantine", "enum_value", "department", src, code, note="department type code 07 unmapped")
        with (self.dir / "exchange" / DEPARTMENTS_FILE).open("w", encoding="gb18030", newline="") as f:
            w = csv.writer(f)
            w.writerow(DEPARTMENT_HEADER)
            w.writerows(rows)

    def _matter_row(self, e: _Entry) -> list[str]:
        mt = MATTERS[e.m]
        return [
            self.matter_codes[e.m], e.name, mt.matter_type, e.region, e.competent, e.bureau,
            {"transferred": "1", "deferred": "2", "retained": "3"}[e.status],
            SLASH[e.tday] if e.status == "transferred" else "", e.basis, str(e.statutory), str(e.promised),
            e.competent,
        ]

    def _write_matters(self) -> None:
        src = "exchange.matters"
        rnd = self.rnd
        # standard_deviation: one league row of three matters departs from the others
        by_matter: dict[int, list[_Entry]] = {}
        for e in self.entries:
            by_matter.setdefault(e.m, []).append(e)
        candidates = [m for m, es in sorted(by_matter.items()) if len(es) >= 3]
        chosen = rnd.sample(candidates, 3)
        for fld, m in zip(("name", "statutory_days", "legal_basis"), chosen):
            e = rnd.choice([x for x in by_matter[m] if x.region in self.leagues])
            if fld == "name":
                e.name = MATTERS[m].name + "核发"
            elif fld == "statutory_days":
                e.statutory = MATTERS[m].statutory + 10
            else:
                e.basis = MATTERS[m].basis.split("第")[0]
            self._truth("finding", "standard_deviation", "matter", src, self.matter_codes[m], fld,
                        f"{self.region_name[e.region]} lists a different {fld}")
        rows = [self._matter_row(e) for e in self.entries]
        # quarantine defects: extra rows for (matter, region) pairs that nothing refers to
        spare = list(self.no_bureau_banners)
        rnd.shuffle(spare)

        def extra(m: int, region: str) -> list[str]:
            mt = MATTERS[m]
            lg = self.league_of.get(region, self.leagues[0])
            comp = self.comp[(mt.industry, lg)]
            return [self.matter_codes[m], mt.name, mt.matter_type, region, comp, "", "3", "", mt.basis,
                    str(mt.statutory), str(max(1, mt.statutory // 2)), comp]

        def key(r: list[str]) -> str:
            return r[0] + "|" + r[3]

        r = extra(0, "159999")
        self._truth("quarantine", "unknown_region", "matter", src, key(r), note="实施区划 159999 does not exist")
        rows.insert(len(rows) // 5, r)
        r = extra(4, spare[0])
        r[4] = self.unknown_depts[0]
        self._truth("quarantine", "unknown_department", "matter", src, key(r), note="主管部门 not a known department")
        rows.insert(2 * len(rows) // 5, r)
        r = extra(21, spare[1])
        r[6] = "5"
        self._truth("quarantine", "enum_value", "matter", src, key(r), note="划转状态 5 unmapped")
        rows.insert(3 * len(rows) // 5, r)
        r = extra(12, spare[2])
        lg = self.league_of[spare[2]]
        r[5], r[6], r[7] = self.bureau[lg], "1", "2021/2/29"
        self._truth("quarantine", "bad_date", "matter", src, key(r), note="划转日期 2021/2/29 does not exist")
        rows.insert(4 * len(rows) // 5, r)
        r = extra(26, spare[3])
        r[1] = ""
        self._truth("quarantine", "missing_required", "matter", src, key(r), note="empty 事项名称")
        rows.append(r)
        with (self.dir / "exchange" / MATTERS_FILE).open("w", encoding="gb18030", newline="") as f:
            w = csv.writer(f)
            w.writerow(MATTER_HEADER)
            w.writerows(rows)

    # ------------------------------------------------------------------ cases and what follows them

    def _chunk(self, start: int, n: int, first: bool) -> None:
        rng = self.rng
        entries = self.entries
        E = rng.choice(len(entries), size=n, p=self.e_weight).tolist()
        span = D_END - D_START + 1
        # case volume grows over the years (一网通办 uptake)
        RD = (D_START + np.floor(span * np.sqrt(rng.random(n)))).astype(np.int64)
        CH = rng.choice(4, size=n, p=[0.45, 0.35, 0.15, 0.05])
        wd = (RD + EPOCH.weekday()) % 7
        weekend = wd >= 5
        # window and self-service cases are received on working days, in office hours
        shift = np.where(weekend & ((CH == 1) | (CH == 3)), 7 - wd, 0)
        RD = np.minimum(RD + shift, D_END).tolist()
        office = rng.integers(8 * 3600 + 1800, 17 * 3600 + 1800, size=n)
        anytime = rng.integers(7 * 3600, 23 * 3600 + 3599, size=n)
        RS = np.where((CH == 1) | (CH == 3), office, anytime).tolist()
        CH = CH.tolist()
        NAT = (rng.random(n) < 0.22).tolist()
        UA = rng.random(n).tolist()
        RL = rng.integers(0, len(self.leagues), size=n).tolist()
        OUT = rng.choice(3, size=n, p=[0.92, 0.05, 0.03]).tolist()  # approved / rejected / withdrawn
        DUR = rng.random(n).tolist()
        XS = rng.random(n).tolist()
        PEND = rng.random(n).tolist()
        EV = rng.random(n).tolist()
        LIC = rng.random(n).tolist()
        UPD = rng.integers(5, 1800, size=n).tolist()
        n_def = max(len(CASE_REASONS) if first else 0, round(n * CASE_DEFECT_RATE))
        n_def = min(n_def, n)
        idx = rng.choice(n, size=n_def, replace=False).tolist()
        t0 = self.turns.get("cases", 0)
        defects = {j: CASE_REASONS[(t0 + k) % len(CASE_REASONS)] for k, j in enumerate(idx)}
        self.turns["cases"] = t0 + n_def
        stat_rows: set[int] = set()
        if first:  # a few cases in statistical-only zones (accepted with a warning, not defects)
            cand = [j for j in range(min(n, 2000)) if j not in defects and entries[E[j]].league >= 0
                    and self.leagues[entries[E[j]].league] in self.stat_zones]
            stat_rows = set(cand[:3])

        cases = self.tables["t_case_info"]
        rejected_legal: list[tuple[str, int, int, str, str]] = []
        for j in range(n):
            seq = start + j + 1
            ei = E[j]
            e = entries[ei]
            mt = MATTERS[e.m]
            region = e.region
            rd, rs = RD[j], RS[j]
            li = e.league if e.league >= 0 else RL[j]
            reason = defects.get(j)
            natural = NAT[j]
            if reason == "bad_uscc":
                natural = False
            elif reason == "bad_id_number":
                natural = True
            if natural:
                pool = self.persons[li]
                code, name = pool[int(UA[j] * len(pool))]
                rep = name
            else:
                pool = self.companies[li][mt.industry]
                code, name, rep = pool[int(UA[j] * len(pool))]
            dur = int(e.promised * 1.4 * DUR[j] * 1.12)
            res_day = rd + dur
            pending = res_day > D_END or (rd > D_END - 45 and PEND[j] < 0.3)
            if dur == 0:
                res_s = min(86399, rs + 600 + int(XS[j] * 7200))
            else:
                res_s = 9 * 3600 + int(XS[j] * 9 * 3600)
            outcome = -1 if pending else OUT[j]
            key_day = rd if pending else res_day
            by_bureau = key_day >= e.tday
            handler = e.bureau if by_bureau else e.competent
            case_no = f"{region}{_DATES[rd].year}{seq:09d}"
            recv = _dt(rd, rs)
            if pending:
                result_time, result_code = None, None if PEND[j] < 0.5 else ""
                upd_day, upd_s = rd, min(86399, rs + UPD[j])
            else:
                result_time, result_code = _dt(res_day, res_s), "123"[outcome]
                upd_day, upd_s = res_day, min(86399, res_s + UPD[j])
            row = [case_no, self.matter_codes[e.m], name, "2" if natural else "1", code, handler, region,
                   CHANNELS[CH[j]], recv, result_time, result_code, e.promised, _dt(upd_day, upd_s)]
            if reason is not None:
                self._case_defect(row, reason, rd, rs)
                cases.add(row)
                continue
            if j in stat_rows:
                row[6] = self.stat_zones[self.leagues[li]]
                self._truth("not_a_defect", "stat_only_zone", "case", "platform.cases", case_no,
                            note=f"area {row[6]} is a statistical-only zone: accepted with a warning")
                cases.add(row)
                continue
            cases.add(row)
            if pending:
                continue
            if outcome == 1 and not natural:
                rejected_legal.append((case_no, ei, res_day, code, name))
            if EV[j] < 0.33:
                self._evaluation(case_no, res_day, res_s, CH[j])
            if outcome == 0 and not natural and LIC[j] < 0.92:
                self._license_from_case(e, ei, case_no, code, name, rep, handler, by_bureau, res_day, res_s)
        # legacy licences (issued before the platform, no case number)
        n_legacy = round(n * 0.05)
        for k in rng.choice(len(self.legacy_entries), size=n_legacy, p=self.legacy_p).tolist():
            self._legacy_license(self.legacy_entries[k])
        self._inject_findings(n, first, rejected_legal)

    def _case_defect(self, row: list, reason: str, rd: int, rs: int) -> None:
        key = row[0]
        note = ""
        if reason == "bad_uscc":
            row[4] = self._bad_uscc(row[4])
            note = "legal-person applicant USCC invalid"
        elif reason == "bad_id_number":
            row[4], note = self._bad_id(row[4])
        elif reason == "missing_required":
            row[8] = None
            row[9], row[10] = None, None
            note = "receive_time empty"
        elif reason == "unknown_region":
            row[6] = "159999"
            note = "area_code 159999"
        elif reason == "unknown_matter":
            row[1] = self.rnd.choice(self.unknown_matters)
            note = "task_code not in the catalogue"
        elif reason == "unknown_department":
            row[5] = self.rnd.choice(self.unknown_depts)
            note = "handle_dept_code is a valid USCC of no registered department"
        elif reason == "enum_value":
            row[7] = self.rnd.choice(["9", "0", "05"])
            note = f"channel_code {row[7]} unmapped"
        elif reason == "date_order":
            total = rd * 86400 + rs - 3600 - self._rr(3 * 86400)
            day, sec = total // 86400, total % 86400
            row[9], row[10] = _dt(day, sec), "2"
            note = "result_time before receive_time"
        elif reason == "bad_date":
            y, m, d = self._bad_date_parts(min(rd + 10, D_END))
            row[9], row[10] = f"{y:04d}-{m:02d}-{d:02d} {TIMES[9 * 3600 + rs % 28800]}", "1"
            note = f"result_time {row[9]} does not exist"
        self._truth("quarantine", reason, "case", "platform.cases", key, note=note)

    def _evaluation(self, case_no: str, res_day: int, res_s: int, ch: int) -> None:
        rnd = self.rnd
        self.eval_seq += 1
        day = min(res_day + (0 if rnd.random() < 0.6 else self._rr(1, 4)), D_END)
        sec = min(86399, res_s + 60 + self._rr(3600)) if day == res_day else self._rr(7 * 3600, 86400)
        u = rnd.random()
        level = "5" if u < 0.8 else "4" if u < 0.92 else "3" if u < 0.96 else "2" if u < 0.985 else "1"
        eval_id = f"PJ{COMPACT[day]}{self.eval_seq:08d}"
        epoch_ms = ((UNIX_DAY0 + day) * 86400 + sec - 8 * 3600) * 1000 + self._rr(1000)
        rectify = None
        upd_day, upd_s = day, sec
        if level in "12" and rnd.random() < 0.7:
            r_day = min(day + self._rr(1, 8), D_END)
            r_s = self._rr(9 * 3600, 18 * 3600)
            if (r_day, r_s) > (day, sec):
                rectify = _dt(r_day, r_s)
                upd_day, upd_s = r_day, r_s
        row = [eval_id, case_no, level, CHANNELS[ch], epoch_ms, rectify, _dt(upd_day, min(86399, upd_s + 30))]
        reason = self._defect("evaluations")
        if reason:
            if reason == "enum_value":
                row[3] = rnd.choice(["9", "0"])
                note = f"channel_code {row[3]} unmapped"
            elif reason == "missing_required":
                row[1] = ""
                note = "project_no empty"
            else:
                y, m, d = self._bad_date_parts(day)
                row[2] = "2"
                row[5] = f"{y:04d}-{m:02d}-{d:02d} 10:{self._rr(60):02d}:00"
                note = f"rectify_time {row[5]} does not exist"
            self._truth("quarantine", reason, "evaluation", "platform.evaluations", eval_id, note=note)
        self.tables["t_evaluation"].add(row)

    # ------------------------------------------------------------------ licences

    def _license_no(self, m: int, region: str, day: int, seq: int | None = None) -> str:
        if seq is None:
            self.lic_seq += 1
            seq = self.lic_seq
            assert seq < 9_000_000, "licence sequence overflow"
        prefix = MATTERS[m].prefix
        if prefix == "JY":
            return f"JY1{region}{seq:07d}"
        return f"{prefix}{region}{_DATES[day].year}{seq:07d}"

    def _status_and_update(self, issue_day: int, issue_s: int, legacy: bool) -> tuple[int, int, int]:
        rnd = self.rnd
        u = rnd.random()
        if legacy:
            status = 0 if u < 0.8 else 3 if u < 0.95 else 2
        else:
            status = 0 if u < 0.94 else 1 if u < 0.96 else 2 if u < 0.98 else 3
        if status == 0:
            return status, issue_day, min(86399, issue_s + 120 + self._rr(1800))
        return status, min(issue_day + 30 + self._rr(700), D_END), self._rr(8 * 3600, 18 * 3600)

    def _license_from_case(self, e: _Entry, ei: int, case_no: str, code: str, name: str, rep: str,
                           handler: str, by_bureau: bool, day: int, sec: int) -> None:
        mt = MATTERS[e.m]
        status, upd_day, upd_s = self._status_and_update(day, sec, legacy=False)
        issuer_region = self.dept_by_code[handler].region
        rec = _Lic(
            no=self._license_no(e.m, issuer_region, day), m=e.m, ei=ei, holder=code, name=name, rep=rep,
            issuer=handler, day=day, sec=sec, vt=_plus_years_minus_one(day, mt.years), status=status,
            case_no=case_no, upd_day=upd_day, upd_s=upd_s,
        )
        self._emit(rec, by_bureau=by_bureau)

    def _legacy_license(self, ei: int) -> None:
        e = self.entries[ei]
        mt = MATTERS[e.m]
        hi = min(e.tday, D_START) - 1
        day = D_LEGACY + self._rr(hi - D_LEGACY + 1)
        sec = self._rr(9 * 3600, 17 * 3600)
        li = e.league if e.league >= 0 else self._rr(len(self.leagues))
        pool = self.companies[li][mt.industry]
        code, name, rep = pool[self._rr(len(pool))]
        status, upd_day, upd_s = self._status_and_update(day, sec, legacy=True)
        rec = _Lic(
            no=self._license_no(e.m, e.region, day), m=e.m, ei=ei, holder=code, name=name, rep=rep,
            issuer=e.competent, day=day, sec=sec, vt=_plus_years_minus_one(day, mt.years), status=status,
            case_no=None, upd_day=upd_day, upd_s=upd_s,
        )
        self._emit(rec, by_bureau=False)

    def _platform_row(self, r: _Lic) -> list:
        return [r.no, MATTERS[r.m].license_type, r.name, r.holder, r.issuer, ISO[r.day], ISO[r.day], ISO[r.vt],
                PLATFORM_STATUS[r.status], r.case_no, _dt(r.upd_day, r.upd_s)]

    def _zhujian_row(self, r: _Lic) -> list:
        return [r.no, MATTERS[r.m].license_type, self.matter_codes[r.m], r.holder, r.name, r.issuer,
                COMPACT[r.day], COMPACT[r.day], CN[r.vt], ZJ_STATUS[r.status], r.case_no,
                _dt(r.upd_day, r.upd_s)]

    def _amr_row(self, r: _Lic) -> list:
        return [r.no, r.holder, r.name, r.rep, self.matter_codes[r.m], r.issuer, COMPACT[r.day], CN[r.day],
                CN[r.vt], AMR_STATUS[r.status], r.case_no, _dt(r.upd_day, r.upd_s)]

    def _emit(self, r: _Lic, by_bureau: bool) -> None:
        """Route one licence to the systems that hold it (and the pushes and feedback that follow)."""
        mt = MATTERS[r.m]
        if by_bureau or not (mt.industry == ZJ or mt.prefix == "JY"):
            row = self._platform_row(r)
            reason = self._defect("platform_licenses")
            if reason:
                self._platform_license_defect(row, reason, r)
                self.tables["t_license"].add(row)
                return
            self.tables["t_license"].add(row)
            if by_bureau and r.case_no and self.rnd.random() < 0.6:
                self._push(r)
            return
        system = "zhujian" if mt.industry == ZJ else "amr"
        table = self.tables["T_XZXK_XKZXX" if system == "zhujian" else "T_SPJY_XKZ"]
        reason = self._defect(system)
        if reason:
            self._industry_defect(system, table, r, reason)
            return
        copy = self.rnd.random() < (0.9 if r.case_no else 0.7)
        conflict = fullwidth = None
        # a different valid_to must not also make one copy read as `expired` and the other not,
        # whatever day the hub runs: only where both dates are past already, or the status never expires
        vt_ok = r.status != 0 or r.vt + 365 <= D_END
        if copy:
            self.copy_seq += 1
            if self.copy_seq % CONFLICT_PERIOD == CONFLICT_PHASE:
                conflict = (self.copy_seq // CONFLICT_PERIOD) % 2
                if conflict == 1 and system == "zhujian" and not vt_ok:
                    self.pending_vt += 1  # a valid_to conflict on the next licence that allows it
                    conflict = None
            elif self.copy_seq % FULLWIDTH_PERIOD == FULLWIDTH_PHASE:
                fullwidth = (self.copy_seq // FULLWIDTH_PERIOD) % 2
            elif self.pending_vt and system == "zhujian" and vt_ok:
                self.pending_vt -= 1
                conflict = 1
        copy_status = r.status
        if conflict is not None and system == "amr" and conflict == 0:
            # revoked in the food licence system, never synchronised to the library
            r.status, r.upd_day, r.upd_s = 2, min(r.day + 200, D_END), 10 * 3600
            copy_status = 0
        row = self._zhujian_row(r) if system == "zhujian" else self._amr_row(r)
        table.add(row)
        if system == "amr" and self._every("identical", IDENTICAL_PERIOD, IDENTICAL_PHASE):
            table.add(list(row))
            self._truth("not_a_defect", "identical_repeat", "license", "amr.licenses", r.no,
                        note="the same row twice: loads once, not a duplicate_key")
        if not copy:
            return
        prow = self._platform_row(r)
        prow[8] = PLATFORM_STATUS[copy_status]
        # the library synchronises overnight (a stale copy still carries the first sync)
        synced = r.day if copy_status != r.status else r.upd_day
        prow[10] = _dt(min(synced + 1, D_END + 1), 2 * 3600 + self._rr(3600))
        sources = ",".join(sorted([f"{system}.licenses", "platform.licenses"]))
        if conflict is not None:
            if system == "amr" and conflict == 0:
                fld, note = "status", "revoked in amr, still valid in the platform library"
            elif conflict == 0 or not vt_ok:
                fld, note = "holder_name", "holder renamed in one system only"
                prow[2] = _renamed(r.name)
            else:
                fld, note = "valid_to", "validity extended in the platform library only"
                prow[7] = ISO[min(r.vt + 365, _N_DAYS - 1)]
            self._truth("finding", "conflict", "license", sources, normalize_code(r.no), fld, note)
        elif fullwidth is not None:
            if fullwidth == 0:
                prow[0] = _fullwidth(r.no)
                note = "licence number in full-width characters in the platform library"
            else:
                cut = 2 + self._rr(len(r.no) - 3)
                prow[0] = r.no[:cut] + " " + r.no[cut:]
                note = "licence number with an inner blank in the platform library"
            self._truth("not_a_defect", "fullwidth_variant", "license", "platform.licenses", normalize_code(r.no),
                        note=note)
        self.tables["t_license"].add(prow)

    def _every(self, name: str, period: int, phase: int) -> bool:
        c = self.counters.get(name, 0)
        self.counters[name] = c + 1
        return c % period == phase

    def _platform_license_defect(self, row: list, reason: str, r: _Lic) -> None:
        rnd = self.rnd
        if reason == "bad_uscc":
            row[3] = self._bad_uscc(row[3])
            note = "holder_code invalid check char"
        elif reason == "bad_date":
            y, m, d = self._bad_date_parts(r.vt)
            row[7] = f"{y:04d}-{m:02d}-{d:02d}"
            note = f"valid_end {row[7]} does not exist"
        elif reason == "enum_value":
            row[8] = rnd.choice(["05", "99", "1"])
            note = f"status {row[8]} unmapped"
        elif reason == "unknown_department":
            row[4] = rnd.choice(self.unknown_depts)
            note = "issue_dept_code not a registered department"
        elif reason == "date_order":
            row[6] = ISO[r.vt + 1 + self._rr(30)]
            note = "valid_begin after valid_end"
        else:
            row[3] = None
            note = "holder_code empty"
        self._truth("quarantine", reason, "license", "platform.licenses", row[0], note=note)

    def _industry_defect(self, system: str, table: _Table, r: _Lic, reason: str) -> None:
        rnd = self.rnd
        zj = system == "zhujian"
        row = self._zhujian_row(r) if zj else self._amr_row(r)
        holder_i = 3 if zj else 1
        issuer_i = 5
        if reason == "bad_uscc":
            row[holder_i] = self._bad_uscc(row[holder_i])
            note = "TYSHXYDM invalid"
        elif reason == "bad_date":
            y, m, d = self._bad_date_parts(r.day if zj else r.vt)
            if zj:
                row[6] = f"{y:04d}{m:02d}{d:02d}"
                note = f"FZRQ {row[6]} does not exist"
            else:
                row[8] = f"{y}年{m}月{d}日"
                note = f"YXQJZ {row[8]} does not exist"
        elif reason == "enum_value":
            row[9] = rnd.choice(["9", "0", "5"]) if zj else rnd.choice(["E", "Z", "9"])
            note = f"ZT {row[9]} unmapped"
        elif reason == "missing_required":
            row[holder_i] = rnd.choice(["", None])
            note = "TYSHXYDM empty"
        elif reason == "unknown_department":
            row[issuer_i] = rnd.choice(self.unknown_depts)
            note = "FZJG not a registered department"
        elif reason == "unknown_matter":
            row[2] = rnd.choice([c for c in self.unknown_matters if c[3:6] == MATTER_CATEGORY[ZJ]])
            note = "SXBM not in the catalogue"
        elif reason == "date_order":
            before = max(r.day - 1 - self._rr(400), 0)
            if zj:
                row[8] = CN[before]
                note = "YXQZ (valid to) before YXQQ (valid from)"
            else:
                row[7] = CN[r.vt + 1 + self._rr(30)]
                note = "YXQZ (valid from) after YXQJZ (valid to)"
        else:  # duplicate_key: a second row with the same number and a different holder name
            table.add(row)
            second = list(row)
            second[4 if zj else 2] = _renamed(r.name)
            row = second
            note = "2 rows"
        self._truth("quarantine", reason, "license", f"{system}.licenses", r.no, note=note)
        table.add(row)

    # ------------------------------------------------------------------ pushes and feedback

    def _push(self, r: _Lic) -> None:
        rnd = self.rnd
        e = self.entries[r.ei]
        self.push_seq += 1
        day = r.day + (0 if rnd.random() < 0.7 else 1)
        sec = min(86399, r.sec + 300 + self._rr(3600)) if day == r.day else self._rr(8 * 3600, 12 * 3600)
        push_id = f"TS{COMPACT[day]}{self.push_seq:08d}"
        ack = None
        upd = _dt(day, sec)
        if rnd.random() < 0.85:
            a_day = day + (self._rr(0, 4) if rnd.random() < 0.85 else self._rr(4, 20))
            a_s = self._rr(8 * 3600, 18 * 3600) if a_day > day else min(86399, sec + 600 + self._rr(7200))
            if a_day <= D_END:
                ack = upd = _dt(a_day, a_s)
        row = [push_id, r.case_no, r.no, r.issuer, e.competent, _dt(day, sec), ack, upd]
        reason = self._defect("pushes")
        if reason:
            if reason == "missing_required":
                row[4] = ""
                note = "to_dept_code empty"
            elif reason == "unknown_department":
                row[4] = rnd.choice(self.unknown_depts)
                note = "to_dept_code not a registered department"
            else:
                y, m, d = self._bad_date_parts(day)
                row[5] = f"{y:04d}-{m:02d}-{d:02d} {TIMES[sec]}"
                note = f"push_time {row[5]} does not exist"
            self._truth("quarantine", reason, "push", "platform.pushes", push_id, note=note)
            self.tables["t_push"].add(row)
            return
        self.tables["t_push"].add(row)
        if rnd.random() < 0.3:
            self._feedback(r, e.competent, r.issuer, day)

    def _feedback(self, r: _Lic, from_dept: str, to_dept: str, push_day: int, phantom: bool = False) -> None:
        rnd = self.rnd
        if phantom:
            day = min(push_day + 1 + self._rr(30), D_END)
        else:
            day = push_day + 15 + self._rr(400)
            if day > D_END:
                return
        self.fb_seq += 1
        sec = self._rr(8 * 3600, 18 * 3600)
        u = rnd.random()
        kind = 0 if u < 0.7 else 1 if u < 0.85 else 2 if u < 0.95 else 3
        fb_id = f"FK{COMPACT[day]}{self.fb_seq:06d}"
        handled, result = "", ""
        if rnd.random() < 0.8:
            h_day = day + 1 + self._rr(20)
            if h_day <= D_END:
                handled, result = _dt(h_day, self._rr(8 * 3600, 18 * 3600)), FEEDBACK_RESULTS[kind]
        row = [fb_id, r.no, r.holder, from_dept, to_dept, FEEDBACK_KINDS[kind], _dt(day, sec), handled, result]
        if phantom:
            self._truth("finding", "unknown_holder_license", "feedback", "exchange.feedback", normalize_code(r.no),
                        note="feedback names a licence no source reports")
        else:
            reason = self._defect("feedback")
            if reason:
                if reason == "enum_value":
                    row[5] = rnd.choice(["09", "5", "99"])
                    note = f"反馈类型 {row[5]} unmapped"
                elif reason == "missing_required":
                    row[3] = ""
                    note = "反馈部门 empty"
                else:
                    y, m, d = self._bad_date_parts(day + 1)
                    row[7] = f"{y:04d}-{m:02d}-{d:02d} 16:{self._rr(60):02d}:00"
                    row[8] = FEEDBACK_RESULTS[kind]
                    note = f"处理时间 {row[7]} does not exist"
                self._truth("quarantine", reason, "feedback", "exchange.feedback", fb_id, note=note)
        self.fb_writer.writerow(row)
        self.fb_rows += 1

    # ------------------------------------------------------------------ findings

    def _inject_findings(self, n: int, first: bool, rejected_legal: list) -> None:
        def count(rate: float) -> int:
            return max(1 if first else 0, round(n * rate))

        # orphan_license: half in the platform library (a rejected case, or a case that does not exist),
        # half in zhujian (a case that does not exist)
        for k in range(count(0.0015)):
            if k % 2 == 0:
                if rejected_legal and k % 4 == 0:
                    case_no, ei, day, code, name = rejected_legal[self._rr(len(rejected_legal))]
                    e = self.entries[ei]
                    issuer = e.bureau if day >= e.tday else e.competent
                    note = "case was rejected"
                else:
                    ei = self._rr(len(self.entries))
                    e = self.entries[ei]
                    day = D_START + self._rr(D_END - D_START - 10)
                    li = e.league if e.league >= 0 else self._rr(len(self.leagues))
                    pool = self.companies[li][MATTERS[e.m].industry]
                    code, name, _ = pool[self._rr(len(pool))]
                    issuer = e.bureau if day >= e.tday else e.competent
                    case_no = f"{e.region}{_DATES[day].year}{900_000_000 + self.lic_seq % 99_999_999:09d}"
                    note = "case number does not exist"
                mt = MATTERS[e.m]
                r = _Lic(no=self._license_no(e.m, self.dept_by_code[issuer].region, day), m=e.m, ei=ei,
                         holder=code, name=name, rep="", issuer=issuer, day=day, sec=10 * 3600,
                         vt=_plus_years_minus_one(day, mt.years), status=0, case_no=case_no, upd_day=day,
                         upd_s=11 * 3600)
                self.tables["t_license"].add(self._platform_row(r))
                self._truth("finding", "orphan_license", "license", "platform.licenses", normalize_code(r.no),
                            note=note)
            else:
                ei = self.untransferred_zj[self._rr(len(self.untransferred_zj))]
                e = self.entries[ei]
                mt = MATTERS[e.m]
                day = D_START + self._rr(D_END - D_START - 10)
                li = e.league if e.league >= 0 else self._rr(len(self.leagues))
                pool = self.companies[li][ZJ]
                code, name, rep = pool[self._rr(len(pool))]
                case_no = f"{e.region}{_DATES[day].year}{900_000_000 + self.lic_seq % 99_999_999:09d}"
                r = _Lic(no=self._license_no(e.m, e.region, day), m=e.m, ei=ei, holder=code, name=name, rep=rep,
                         issuer=e.competent, day=day, sec=15 * 3600, vt=_plus_years_minus_one(day, mt.years),
                         status=0, case_no=case_no, upd_day=day, upd_s=16 * 3600)
                self.tables["T_XZXK_XKZXX"].add(self._zhujian_row(r))
                self._truth("finding", "orphan_license", "license", "zhujian.licenses", normalize_code(r.no),
                            note="case number does not exist")
        # duplicate_issuance: a competent 住建 department keeps issuing a transferred matter;
        # and a few issued shortly before the transfer date (not findings)
        for k in range(count(0.0008) + count(0.0004)):
            after = k < count(0.0008)
            ei = self.transferred_zj[self._rr(len(self.transferred_zj))]
            e = self.entries[ei]
            mt = MATTERS[e.m]
            if after:
                day = e.tday + self._rr(max(1, D_END - e.tday))
            else:
                day = e.tday - 1 - self._rr(60)
            li = e.league
            pool = self.companies[li][ZJ]
            code, name, rep = pool[self._rr(len(pool))]
            r = _Lic(no=self._license_no(e.m, e.region, day), m=e.m, ei=ei, holder=code, name=name, rep=rep,
                     issuer=e.competent, day=day, sec=self._rr(9 * 3600, 17 * 3600),
                     vt=_plus_years_minus_one(day, mt.years), status=0, case_no=None, upd_day=day,
                     upd_s=17 * 3600 + self._rr(3600))
            self.tables["T_XZXK_XKZXX"].add(self._zhujian_row(r))
            if after:
                self._truth("finding", "duplicate_issuance", "license", "zhujian.licenses", normalize_code(r.no),
                            note=f"issued {ISO[day]}, matter transferred {ISO[e.tday]} in {e.region}")
            else:
                self._truth("not_a_defect", "issued_before_transfer", "license", "zhujian.licenses",
                            normalize_code(r.no), note=f"issued {ISO[day]}, before transfer on {ISO[e.tday]}")
        # unknown_holder_license: supervision feedback on a licence no system holds
        for _ in range(count(0.0008)):
            ei = self.transferred_zj[self._rr(len(self.transferred_zj))]
            e = self.entries[ei]
            day = max(e.tday, D_START) + self._rr(max(1, D_END - max(e.tday, D_START) - 30))
            pool = self.companies[e.league][ZJ]
            code, name, rep = pool[self._rr(len(pool))]
            self.phantom_seq += 1
            no = self._license_no(e.m, e.region, day, seq=9_000_000 + self.phantom_seq)
            r = _Lic(no=no, m=e.m, ei=ei, holder=code, name=name, rep=rep, issuer=e.bureau, day=day, sec=0,
                     vt=day, status=0, case_no=None, upd_day=day, upd_s=0)
            self._feedback(r, e.competent, e.bureau, day, phantom=True)

    # ------------------------------------------------------------------ truth and configuration

    def _write_truth(self) -> None:
        rows = sorted(self.truth, key=lambda t: (t[0], t[1], t[2], t[3], t[4]))
        with (self.dir / "truth.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(TRUTH_HEADER)
            w.writerows(rows)

    def _write_sources_yaml(self) -> Path:
        def url(name: str) -> str:
            return json.dumps("sqlite:///" + str((self.dir / f"{name}.sqlite").resolve()), ensure_ascii=False)

        text = SOURCES_TEMPLATE.format(
            scale=self.scale, seed=self.seed,
            platform_dept=self.platform_dept,
            zj_dept=self.comp[(ZJ, "150000")],
            amr_dept=self.comp[(AMR, "150000")],
            platform_url=url("platform"), zhujian_url=url("zhujian"), amr_url=url("amr"),
        )
        path = self.dir / "sources.yaml"
        path.write_text(text, encoding="utf-8")
        return path


@dataclass
class _Lic:
    no: str
    m: int
    ei: int
    holder: str
    name: str
    rep: str
    issuer: str
    day: int
    sec: int
    vt: int
    status: int  # 0 valid, 1 suspended, 2 revoked, 3 cancelled
    case_no: str | None
    upd_day: int
    upd_s: int


SOURCES_TEMPLATE = """\
# sources.yaml of the demo source systems — GENERATED by pipelines/demo_data.py
# (generate_demo(directory, scale={scale}, seed={seed})). Do not edit: running the generator again
# overwrites this file, the three SQLite databases, the exchange folder and truth.csv.
#
#   platform  一体化在线政务服务平台: 办件, 好差评, 电子证照库, 审批信息推送 (English snake_case columns)
#   zhujian   住房和城乡建设厅行业审批系统 (pinyin-initial columns; FZRQ/YXQQ YYYYMMDD, YXQZ = 有效期止)
#   amr       市场监督管理局食品经营许可系统 (YXQZ = 有效期自, YXQJZ = 有效期至; letter status codes)
#   exchange  前置机交换目录: GB18030 CSV files with Chinese headers
#
# truth.csv beside this file lists every defect injected on purpose (quarantine reasons and
# recognition findings of model.md) and the look-alikes that must load cleanly (not_a_defect).
sources:
  platform:
    department: "{platform_dept}"
    label: 一体化在线政务服务平台
    connection:
      kind: sql
      url: {platform_url}
    streams:
      cases:
        entity: case
        label: 办件信息
        table: t_case_info
        key: [project_no]
        cursor: update_time
        fields:
          case_no: project_no
          matter_code: task_code
          applicant_name: apply_name
          applicant_type: {{column: apply_type, map: {{"1": legal_person, "2": natural_person}}}}
          applicant_code: apply_cardnumber
          handling_dept_code: handle_dept_code
          region_code: area_code
          channel: {{column: channel_code, map: {{"1": online, "2": window, "3": mobile, "4": self_service}}}}
          received_at: receive_time
          decided_at: result_time
          decision: {{column: result_code, map: {{"1": approved, "2": rejected, "3": withdrawn}}, default: pending}}
          promised_days: promise_day
      evaluations:
        entity: evaluation
        label: 好差评
        table: t_evaluation
        key: [evaluation_id]
        cursor: update_time
        fields:
          evaluation_id: evaluation_id
          case_no: project_no
          score: evaluate_level
          channel: {{column: channel_code, map: {{"1": online, "2": window, "3": mobile, "4": self_service}}}}
          evaluated_at: {{column: evaluate_time, format: epoch_ms}}
          rectified_at: rectify_time
      licenses:
        entity: license
        label: 电子证照库
        table: t_license
        key: [license_code]
        cursor: update_time
        fields:
          license_no: license_code
          license_type: license_type
          holder_code: holder_code
          holder_name: holder_name
          issuing_dept_code: issue_dept_code
          issued_on: issue_date
          valid_from: valid_begin
          valid_to: valid_end
          status: {{column: status, map: {{"01": valid, "02": suspended, "03": revoked, "04": cancelled}}}}
          case_no: project_no
      pushes:
        entity: push
        label: 审批信息推送
        table: t_push
        key: [push_id]
        cursor: update_time
        fields:
          push_id: push_id
          case_no: project_no
          license_no: license_code
          from_dept_code: from_dept_code
          to_dept_code: to_dept_code
          pushed_at: push_time
          acknowledged_at: ack_time

  zhujian:
    department: "{zj_dept}"
    label: 住房和城乡建设厅行业审批系统
    connection:
      kind: sql
      url: {zhujian_url}
    streams:
      licenses:
        entity: license
        label: 行政许可证照信息
        table: T_XZXK_XKZXX
        key: [XKZBH]
        cursor: GXSJ
        fields:
          license_no: XKZBH
          license_type: XKZLX
          matter_code: SXBM
          holder_code: TYSHXYDM
          holder_name: QYMC
          issuing_dept_code: FZJG
          issued_on: {{column: FZRQ, format: "%Y%m%d"}}
          valid_from: {{column: YXQQ, format: "%Y%m%d"}}
          valid_to: YXQZ                       # 有效期止, YYYY年M月D日
          status: {{column: ZT, map: {{"1": valid, "2": revoked, "3": cancelled, "4": suspended}}}}
          case_no: BJBH

  amr:
    department: "{amr_dept}"
    label: 市场监督管理局食品经营许可系统
    connection:
      kind: sql
      url: {amr_url}
    streams:
      licenses:
        entity: license
        label: 食品经营许可证
        table: T_SPJY_XKZ
        key: [XKZBH]
        cursor: GXSJ
        fields:
          license_no: XKZBH
          license_type: {{value: 食品经营许可证}}
          matter_code: SXBM
          holder_code: TYSHXYDM
          holder_name: QYMC
          issuing_dept_code: FZJG
          issued_on: {{column: FZRQ, format: "%Y%m%d"}}
          valid_from: YXQZ                     # here YXQZ means 有效期自 (valid FROM)
          valid_to: YXQJZ                      # 有效期截止
          status: {{column: ZT, map: {{"A": valid, "B": suspended, "C": revoked, "D": cancelled}}}}
          case_no: BJBH

  exchange:
    department: "{platform_dept}"
    label: 前置机交换目录
    connection:
      kind: file
      path: exchange
      format: csv
      encoding: gb18030
      delimiter: ","
    streams:
      departments:
        entity: department
        label: 部门信息
        pattern: "departments_*.csv"
        key: [统一社会信用代码]
        fields:
          dept_code: 统一社会信用代码
          name: 部门名称
          kind: {{column: 部门类型, map: {{"01": approval_bureau, "02": competent, "03": platform, "09": other}}}}
          region_code: 行政区划代码
      matters:
        entity: matter
        label: 权责清单
        pattern: "matters_*.csv"
        key: [事项编码, 实施区划]
        fields:
          matter_code: 事项编码
          name: 事项名称
          matter_type: {{column: 事项类型, map: {{行政许可: licensing, 行政确认: confirmation, 其他行政权力: other}}}}
          region_code: 实施区划
          competent_dept_code: 主管部门
          approval_dept_code: 审批部门
          transfer_status: {{column: 划转状态, map: {{"1": transferred, "2": deferred, "3": retained}}}}
          transferred_on: 划转日期             # YYYY/M/D
          legal_basis: 设定依据
          statutory_days: 法定时限
          promised_days: 承诺时限
          supervising_dept_code: 监管部门
      feedback:
        entity: feedback
        label: 监管信息反馈
        pattern: "feedback_*.csv"
        key: [反馈编号]
        fields:
          feedback_id: 反馈编号
          license_no: 证照编号
          holder_code: 统一社会信用代码
          from_dept_code: 反馈部门
          to_dept_code: 接收部门
          kind: {{column: 反馈类型, map: {{"01": inspection_pass, "02": violation, "03": penalty, "04": revocation_advice}}}}
          issued_at: 反馈时间
          handled_at: 处理时间
          handling_result: 处理结果
"""


def generate_demo(directory: Path, scale: int = DEFAULT_SCALE, seed: int = 20200309) -> Path:
    """Writes the demo source systems into `directory` and returns the path of its sources.yaml."""
    return _Generator(Path(directory), scale, seed).run()
