"""SQL that maps one landed batch of a stream onto its canonical entity (model.md "Normalisation").

Generated from the stream's `fields`, so adding a source is configuration, not code. The stage
keeps, beside each canonical value, the cleaned source text (`s__<field>`) so the row rules in
`quality/` can tell "empty" from "present but unparseable" or "unmapped" without going back to raw.

Everything runs inside the warehouse, set-based over the batch: no Python loop over rows.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from warehouse.model import CODE, DATE, ENUM, INTEGER, NAME, TEXT, TIMESTAMP, VOCABULARIES, Entity
from warehouse.sql import Params, quote_ident

if TYPE_CHECKING:  # pragma: no cover
    from pipelines.config import FieldSpec, StreamConfig

# Every date form of model.md in one pattern: ISO 8601 (with T or blank, fraction, zone),
# YYYYMMDD[HHMMSS], YYYY/M/D, YYYY.M.D, YYYY年M月D日 [H时M分S秒].
DATE_PATTERN = (
    r"^(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))"
    r"(?:(?:[ T]+|)(\d{1,2})[:时]?(\d{2})(?:[:分]?(\d{2})(?:\.(\d{1,6}))?秒?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
# A character that NFKC might change: anything but ASCII, CJK Unified Ideographs (with extension A)
# and the enumeration comma, full stop and middle dot, which have no decomposition.
NFKC_SUSPECT = r"[^\x00-\x7F\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{3001}\x{3002}\x{00B7}]"
# The full-width brackets and the ideographic space, which NFKC maps to ( ) and the space
# (compatibility decomposition <wide>): most of what NFKC changes in Chinese names, replaced in
# SQL. (DuckDB's `translate` rebuilds its map for every value: over all 95 full-width forms it
# cost more than the Python function it would spare.)
WIDE_IN_SQL = {"（": "(", "）": ")", "\u3000": " "}
# A character that NFKC might change other than those: only such values need the Python function.
NFKC_BEYOND_SQL = NFKC_SUSPECT[:-1] + "".join(WIDE_IN_SQL) + "]"
DATE_PARTS = ["y", "m", "d", "m2", "d2", "hh", "mi", "ss", "frac", "tz"]
BEIJING_OFFSET_MINUTES = 480  # Asia/Shanghai has had no daylight saving since 1991


def stage_column(field: str) -> str:
    return f"s__{field}"


def _normal_text(column: str) -> str:
    """A source column as text in Unicode NFKC (the first layer of the stage, once per column).

    NFKC only where a value has a character outside the ranges NFKC leaves alone (ASCII, CJK
    unified ideographs, 、。·): names in plain Chinese are kept as they are; full-width brackets
    and the ideographic space are replaced in SQL; only values with another compatibility
    character go through the Python function, which needs the GIL for every vector: 10,000 names
    with （） took 55 ms of a stage alone and 290 ms while another thread ran Python. ASCII (as
    many bytes as characters) is decided first, without a pattern.
    """
    col = f"CAST({quote_ident(column)} AS VARCHAR)"
    return (
        f"CASE WHEN strlen({col}) = length({col}) THEN {col}"
        f" WHEN NOT regexp_matches({col}, '{NFKC_SUSPECT}') THEN {col}"
        f" WHEN NOT regexp_matches({col}, '{NFKC_BEYOND_SQL}') THEN {_wide_replaced(col)}"
        f" ELSE hub_nfkc({col}) END"
    )


def _wide_replaced(col: str) -> str:
    for wide, narrow in WIDE_IN_SQL.items():
        col = f"replace({col}, '{wide}', '{narrow}')"
    return col


def _source_text(spec: FieldSpec | None, p: Params, typed: Collection[str], normal: dict[str, str]) -> str:
    """The cleaned source text of a field: NFKC, trimmed, '' → NULL, default applied.

    `normal` maps each text source column to the name under which the layer below holds its
    NFKC text (`_normal_text`)."""
    if spec is None:
        return "CAST(NULL AS VARCHAR)"
    if spec.value is not None:
        return f"CAST({p(spec.value)} AS VARCHAR)"
    col = f"CAST({quote_ident(spec.column)} AS VARCHAR)"
    if spec.column in typed:  # a date or timestamp value: its text needs no cleaning
        return col if spec.default is None else f"COALESCE({col}, {p(spec.default)})"
    text = f"NULLIF({_trimmed(normal[spec.column])}, '')"
    if spec.default is not None:
        text = f"COALESCE({text}, {p(spec.default)})"
    return text


def _trimmed(s: str) -> str:
    """trim(s) (spaces at either end), called only for values that have one: most have none,
    and trim copies every value it is given (half the cost of this column's cleaning)."""
    return f"CASE WHEN starts_with({s}, ' ') OR ends_with({s}, ' ') THEN trim({s}) ELSE {s} END"


def _parts(s: str) -> str:
    names = ", ".join(f"'{n}'" for n in DATE_PARTS)
    return f"regexp_extract({s}, '{DATE_PATTERN}', [{names}])"


def _timestamp_from_parts(pt: str) -> str:
    """A Beijing wall-clock timestamp from the parts struct; NULL when the date does not exist."""
    month = f"COALESCE(NULLIF({pt}.m, ''), NULLIF({pt}.m2, ''))"
    day = f"COALESCE(NULLIF({pt}.d, ''), NULLIF({pt}.d2, ''))"
    sec = (
        f"COALESCE(TRY_CAST(NULLIF({pt}.ss, '') AS DOUBLE), 0)"
        f" + COALESCE(TRY_CAST('0.' || NULLIF({pt}.frac, '') AS DOUBLE), 0)"
    )
    naive = (
        f"try(make_timestamp(CAST({pt}.y AS BIGINT), CAST({month} AS BIGINT), CAST({day} AS BIGINT),"
        f" COALESCE(TRY_CAST(NULLIF({pt}.hh, '') AS BIGINT), 0),"
        f" COALESCE(TRY_CAST(NULLIF({pt}.mi, '') AS BIGINT), 0), {sec}))"
    )
    offset = (
        f"CASE WHEN {pt}.tz = 'Z' THEN 0 WHEN {pt}.tz <> '' THEN"
        f" (CASE WHEN left({pt}.tz, 1) = '-' THEN -1 ELSE 1 END)"
        f" * (CAST(substr({pt}.tz, 2, 2) AS INTEGER) * 60"
        f" + COALESCE(TRY_CAST(NULLIF(right(replace({pt}.tz, ':', ''), 2), substr({pt}.tz, 2, 2))"
        f" AS INTEGER), 0)) END"
    )
    return (
        f"CASE WHEN {pt}.y = '' THEN NULL WHEN {pt}.tz = '' THEN {naive} ELSE {naive}"
        f" + to_minutes(CAST({BEIJING_OFFSET_MINUTES} - ({offset}) AS BIGINT)) END"
    )


def _temporal(field: str, kind: str, spec: FieldSpec | None, p: Params,
              typed: Collection[str] = ()) -> tuple[str, str | None]:
    """(canonical expression, parts expression or None) for a date or timestamp field.

    `typed` names the source columns that arrive as DATE or TIMESTAMP values (a bulk reader's
    typed columns, already Beijing wall-clock): those are taken as they are, not rendered to text
    and parsed back."""
    s = stage_column(field)
    fmt = spec.format if spec else None
    cast = "DATE" if kind == DATE else "TIMESTAMP"
    if spec is not None and spec.column is not None and not fmt and spec.column in typed:
        value = f"CAST({quote_ident(spec.column)} AS {cast})"
        if spec.default is not None:
            return f"COALESCE({value}, CAST({s} AS {cast}))", None  # the default, as text, parses
        return value, None
    if fmt == "excel":
        # Excel's day 0 is 1899-12-30 (its 1900 leap-year bug folded in); the fraction is the time.
        expr = (
            f"CAST(TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(TRY_CAST({s} AS DOUBLE)"
            f" * 86400000000) AS BIGINT)) AS {cast})"
        )
        return expr, None
    if fmt == "epoch_ms":
        # An epoch value is an instant: convert it to Beijing wall-clock time.
        expr = (
            f"CAST(make_timestamp(TRY_CAST({s} AS BIGINT) * 1000)"
            f" + to_minutes({BEIJING_OFFSET_MINUTES}) AS {cast})"
        )
        return expr, None
    if fmt:
        return f"CAST(try_strptime({s}, {p(fmt)}) AS {cast})", None
    pt = f"pt__{field}"
    # Fast path for the commonest shapes, exactly 'YYYY-MM-DD HH:MM:SS' and 'YYYY-MM-DD' (no zone):
    # DuckDB's own cast, NULL for a date that does not exist. Every other form goes through the
    # pattern, which is computed only for those rows.
    iso_ts, iso_date = _iso_shapes(s)
    expr = (
        f"CAST(CASE WHEN {iso_ts} THEN TRY_CAST({s} AS TIMESTAMP)"
        f" WHEN {iso_date} THEN CAST(TRY_CAST({s} AS DATE) AS TIMESTAMP)"
        f" ELSE {_timestamp_from_parts(pt)} END AS {cast})"
    )
    return expr, f"CASE WHEN NOT ({iso_ts} OR {iso_date}) THEN {_parts(s)} END"


def _iso_shapes(s: str) -> tuple[str, str]:
    """Exactly 'YYYY-MM-DD HH:MM:SS' / 'YYYY-MM-DD' by their separators (LIKE costs a fraction of a
    pattern). A non-digit in a digit place makes the cast NULL, as the full pattern would."""
    return f"({s} LIKE '____-__-__ __:__:__')", f"({s} LIKE '____-__-__')"


def _has_blank(s: str) -> str:
    """The value holds a character of RE2's \\s (tab, line feed, form feed, carriage return, space),
    tested by substring search, which is many times cheaper than the pattern over a column."""
    return "(" + " OR ".join(f"contains({s}, chr({c}))" for c in (32, 9, 10, 12, 13)) + ")"


def _enum(entity: Entity, field: str, spec: FieldSpec | None, p: Params) -> str:
    s = stage_column(field)
    column = entity.columns[field]
    if spec is not None and spec.map:
        mapping = dict(spec.map)
        if spec.default is not None:
            # An empty source value became the default, which is a vocabulary value: it maps to itself.
            mapping.setdefault(spec.default, spec.default)
        cases = " ".join(f"WHEN {s} = {p(k)} THEN {p(v)}" for k, v in mapping.items())
        expr = f"CASE {cases} END"
    elif spec is not None and spec.value is not None:
        expr = s
    else:
        expr = s
        if column.vocabulary:
            # No map: the source already speaks the vocabulary (case and blanks aside).
            expr = f"lower({s})"
    if column.vocabulary:
        allowed = ", ".join(p(v) for v in VOCABULARIES[column.vocabulary])
        expr = f"CASE WHEN ({expr}) IN ({allowed}) THEN ({expr}) END"
    if column.name == "score":
        expr = f"CAST({expr} AS INTEGER)"
    return expr


def canonical_expression(entity: Entity, field: str, spec: FieldSpec | None, p: Params) -> str:
    kind = entity.columns[field].kind
    s = stage_column(field)
    if kind == CODE:
        return f"upper(CASE WHEN {_has_blank(s)} THEN regexp_replace({s}, '\\s+', '', 'g') ELSE {s} END)"
    if kind == NAME:
        return f"CASE WHEN {_has_blank(s)} THEN regexp_replace({s}, '\\s+', ' ', 'g') ELSE {s} END"
    if kind == TEXT:
        return s
    if kind == INTEGER:
        return f"TRY_CAST(regexp_extract({s}, '^[+]?(\\d{{1,9}})', 1) AS INTEGER)"
    if kind == ENUM:
        return _enum(entity, field, spec, p)
    raise ValueError(f"no canonical expression for kind {kind}")  # temporal handled by caller


def stage_query(stream: StreamConfig, entity: Entity, raw_table: str, p: Params) -> str:
    """SELECT that turns raw rows of one batch into canonical values plus cleaned source texts.

    The caller binds the batch id as the parameter `$batch_id`.
    """
    narrow = stage_select(stream, entity, f"(SELECT * FROM {raw_table} WHERE _batch_id = $batch_id)", p)
    return with_stage_aliases(entity, f"({narrow})")


# Kinds whose source text can be present while the canonical value is NULL (an unparseable date, an
# unmapped code, a non-number): the stage keeps their cleaned text as `s__<field>`. For the other
# kinds the canonical value is NULL exactly when the text is, so `s__<field>` is the canonical
# value itself (with_stage_aliases), and the stage holds each such string once instead of twice.
KEEPS_SOURCE_TEXT = (DATE, TIMESTAMP, ENUM, INTEGER)


def with_stage_aliases(entity: Entity, relation: str) -> str:
    """SELECT of `relation` (stage rows) plus `<field> AS s__<field>` for each field whose stage
    text is its canonical value."""
    aliases = "".join(
        f", {name} AS {stage_column(name)}" for name, col in entity.columns.items() if col.kind not in KEEPS_SOURCE_TEXT
    )
    return f"SELECT *{aliases} FROM {relation}"


def stage_select(stream: StreamConfig, entity: Entity, rows: str, p: Params,
                 typed: Collection[str] = ()) -> str:
    """The same SELECT over any relation shaped like raw (`_row_no`, `_source_key`, the source
    columns as text, or as DATE / TIMESTAMP values for the columns named in `typed`), without the
    `with_stage_aliases` columns: the loader stages each chunk as it lands, while the next one is
    extracted, and adds the aliases in a view."""
    # Layer 1 (`nfkc`): each source column a text field reads, in NFKC, once; layer 2 (`src`)
    # trims it and applies defaults. Written in one layer, every column's NFKC expression stood
    # four times inside its trimming and DuckDB bound and deduplicated them all again for each
    # batch: 35 ms of planning, more than a 10,000-row batch takes to run.
    text_columns = sorted({spec.column for field in entity.columns
                           if (spec := stream.fields.get(field)) is not None and spec.value is None
                           and spec.column is not None and spec.column not in typed})
    normal = {c: f"hub_n{i}" for i, c in enumerate(text_columns)}
    texts, parts, outs = [], [], []
    for field in entity.columns:
        spec = stream.fields.get(field)
        texts.append(f"{_source_text(spec, p, typed, normal)} AS {stage_column(field)}")
    kept = [stage_column(f) for f, column in entity.columns.items() if column.kind in KEEPS_SOURCE_TEXT]
    for field, column in entity.columns.items():
        spec = stream.fields.get(field)
        if column.kind in (DATE, TIMESTAMP):
            expr, part = _temporal(field, column.kind, spec, p, typed)
            if part is not None:
                parts.append(f"{part} AS pt__{field}")
        else:
            expr = canonical_expression(entity, field, spec, p)
        outs.append(f"{expr} AS {field}")
    cursor_text = (
        f"CAST({quote_ident(stream.cursor)} AS VARCHAR)" if stream.cursor else "CAST(NULL AS VARCHAR)"
    )
    # Date and timestamp values pass through to the canonical expressions that take them as they are.
    values = "".join(f", {quote_ident(c)}" for c in sorted(typed) if any(
        spec.column == c for spec in stream.fields.values()))
    normalised = "".join(f", {_normal_text(c)} AS {alias}" for c, alias in normal.items())
    sql = f"""
WITH nfkc AS (
  SELECT _row_no, _source_key, {cursor_text} AS _cursor{normalised}{values}
  FROM {rows} AS landed
), src AS (
  SELECT _row_no, _source_key, _cursor, {', '.join(texts)}{values}
  FROM nfkc
), parts AS (
  SELECT *{''.join(', ' + x for x in parts)} FROM src
)
SELECT _row_no, _source_key, _cursor, {''.join(c + ', ' for c in kept)}{', '.join(outs)}
FROM parts"""
    return sql
