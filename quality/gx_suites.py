"""Great Expectations suites generated from the row rules: `core.<entity>`, one expectation per rule.

`quality.row_rules.ALL_RULES` stays the single rule list: this module only translates each
`RowRule` into an expectation over the stage columns (canonical `<field>`, cleaned source text
`s__<field>`). GX's built-in expectations are used where they say exactly what the rule says (in
their counts-only form, `quality.gx_expectations`); the rest are the custom expectations of
`quality.gx_expectations`, whose SQL is `failure_predicate`'s.

Every expectation carries `meta = {reason, rule_kind, fields, description}` (so a result maps back
to a quarantine reason) and `notes` with the Chinese description for Data Docs. A rule kind this
module does not know raises: a new kind in row_rules.py must be given its expectation here.

Importing this module imports great_expectations (seconds): import it lazily.
"""

from __future__ import annotations

import great_expectations as gx

from quality import gx_expectations as hx
from quality.row_rules import ALL_RULES, RowRule
from warehouse.model import ENTITIES, ENUM
from warehouse.normalise import stage_column


def suite_name(entity_name: str) -> str:
    return f"core.{entity_name}"


def expectation_for(rule: RowRule):
    """The GX expectation that checks one row rule on the staged batch."""
    entity = ENTITIES[rule.entity]
    f = rule.fields[0]
    meta = {
        "reason": rule.reason,
        "rule_kind": rule.kind,
        "fields": list(rule.fields),
        "description": rule.description,
    }
    # `description` replaces GX's generated sentence in Data Docs (a string template: no `$` here).
    common = {
        "meta": meta,
        "notes": f"{rule.description}（隔离原因：{rule.reason}；字段：{'、'.join(rule.fields)}）",
        "description": f"{rule.description} [{rule.reason}]",
    }
    kind = rule.kind
    if kind == "required":
        if entity.columns[f].kind == ENUM:
            # A mapped enumeration may take the stream's default when its source is empty, so the
            # canonical value decides (`s__ IS NULL AND <field> IS NULL`): a custom expectation.
            return hx.ExpectColumnValuesToBePresent(column=f, **common)
        # Other kinds are NULL whenever their source text is: "source text present" is exact.
        return hx.ExpectColumnValuesToNotBeNullCountOnly(column=stage_column(f), **common)
    if kind == "uscc":
        return hx.ExpectColumnValuesToBeValidUscc(column=f, **common)
    if kind in ("party_uscc", "party_id"):
        return hx.ExpectColumnValuesToBeValidPartyCode(
            column=f,
            party_type="legal_person" if kind == "party_uscc" else "natural_person",
            type_column=rule.fields[1] if len(rule.fields) > 1 else None,
            **common,
        )
    if kind in ("date", "enum", "integer"):
        return hx.ExpectColumnValuesToBeParsedWhenPresent(
            column=stage_column(f), canonical_column=f, rule_kind=kind, **common
        )
    if kind == "date_order":
        earlier, later = rule.fields
        return hx.ExpectColumnPairValuesAToBeGreaterThanBCountOnly(
            column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing", **common
        )
    if kind == "region":
        return hx.ExpectColumnValuesToBeInnerMongoliaRegion(column=f, **common)
    if kind == "matter":
        return hx.ExpectColumnValuesToBeKnownMatter(column=f, **common)
    if kind == "department":
        return hx.ExpectColumnValuesToBeKnownDepartment(column=f, **common)
    if kind == "duplicate_key":
        return hx.ExpectColumnValuesToBeUnambiguousKey(column=f, entity=rule.entity, **common)
    raise ValueError(f"no GX expectation for row rule kind {kind!r} ({rule.entity}.{f})")


def build_suite(entity_name: str) -> gx.ExpectationSuite:
    """The suite `core.<entity>`: one expectation per RowRule of the entity, in rule order."""
    if entity_name not in ALL_RULES:
        raise KeyError(f"unknown entity {entity_name!r}; known: {', '.join(ALL_RULES)}")
    # Passing the expectations to the constructor keeps this free of a data context (GX 1.x's
    # add_expectation looks one up to autosave); the caller adds the suite to a context if needed.
    return gx.ExpectationSuite(
        name=suite_name(entity_name),
        expectations=[expectation_for(rule) for rule in ALL_RULES[entity_name]],
        meta={"entity": entity_name, "label": ENTITIES[entity_name].label, "source": "quality.row_rules"},
    )
