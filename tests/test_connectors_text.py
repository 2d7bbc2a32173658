"""The Arrow path and the Python path of connectors.text must render identically."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from connectors.text import json_text, render_value, text_array

UTC = ZoneInfo("UTC")

CASES = [
    ([1, -2, 10**15, None], None, ["1", "-2", "1000000000000000", None]),
    ([True, False, None], None, ["true", "false", None]),
    (
        [1.5, 3.0, 1e20, 1e-7, 0.1, None],
        None,
        ["1.5", "3", "100000000000000000000", "0.0000001", "0.1", None],
    ),
    (
        [Decimal("1.50"), Decimal("0.00000001"), None],
        pa.decimal128(12, 8),
        ["1.50000000", "0.00000001", None],
    ),
    ([dt.date(2024, 1, 2), None], None, ["2024-01-02", None]),
    (
        [dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime(2024, 1, 2, 3, 4, 5, 250000), None],
        None,
        ["2024-01-02 03:04:05", "2024-01-02 03:04:05.250000", None],
    ),
    (
        [dt.datetime(2024, 1, 2, 20, 4, 5, tzinfo=UTC), dt.datetime(2024, 1, 2, 3, 4, 5, 1, tzinfo=UTC)],
        None,
        ["2024-01-03 04:04:05", "2024-01-02 11:04:05.000001"],
    ),
    ([dt.time(3, 4, 5), dt.time(3, 4, 5, 500)], None, ["03:04:05", "03:04:05.000500"]),
    ([b"\x00\xff", None], None, ["00ff", None]),
    (["呼和浩特市", "", None], None, ["呼和浩特市", "", None]),
]


@pytest.mark.parametrize("values, type_, expected", CASES)
def test_arrow_and_python_rendering_agree(values, type_, expected):
    arr = pa.array(values, type=type_)
    assert text_array(arr).to_pylist() == expected
    if type_ is None:  # the Python path sees the original values
        assert [render_value(v) for v in values] == expected


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_timestamp_units_render_alike(unit):
    arr = pa.array([dt.datetime(2024, 5, 6, 7, 8, 9)], type=pa.timestamp(unit, tz="UTC"))
    assert text_array(arr).to_pylist() == ["2024-05-06 15:08:09"]


def test_decimal_and_nested_values():
    assert render_value(Decimal("1E+3")) == "1000"
    assert render_value(Decimal("-0.000000123")) == "-0.000000123"
    assert render_value(dt.timedelta(days=1, hours=6, microseconds=5)) == "30:00:00.000005"
    assert (
        json_text({"城市": "呼和浩特市", "n": [Decimal("1.10"), None, True]})
        == '{"城市":"呼和浩特市","n":[1.10,null,true]}'
    )
    struct = pa.array([{"a": 1, "b": "x"}])
    assert text_array(struct).to_pylist() == ['{"a":1,"b":"x"}']
