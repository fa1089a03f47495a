"""core.output.json_encoder: the C encoder made once gives the text json.JSONEncoder gives."""
import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from core.output import _jsonable, json_body, json_encoder

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(), st.decimals(allow_nan=False, allow_infinity=False, places=2), st.dates())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=12)


@pytest.mark.parametrize("default, separators", [(str, (",", ":")), (_jsonable, (", ", ": "))])
@given(value=values)
def test_same_text_as_the_json_module(default, separators, value):
    encode = json_encoder(default, separators)
    expected = json.JSONEncoder(ensure_ascii=False, default=default, separators=separators).encode(value)
    assert encode(value) == expected
    assert encode(value) == expected  # made once, used again: nothing is left over from the last value


def test_one_record_a_line_with_chinese_and_decimals():
    records = [{"name": "曹超昊", "points": Decimal("81"), "items": [{"points": Decimal("-1.50")}], "day": dt.date(2026, 3, 1)},
               {"name": "韦华凤", "points": Decimal("80.00")}]
    assert json_body(records) == ('{"name": "曹超昊", "points": 81, "items": [{"points": -1.5}], "day": "2026-03-01"},\n'
                                  '{"name": "韦华凤", "points": 80}')


def test_a_circular_value_is_refused_as_by_the_json_module():
    a: list = []
    a.append(a)
    encode = json_encoder(str)
    with pytest.raises(ValueError, match="Circular"):
        encode(a)
    assert encode(a[0][:0] + [1, "二"]) == '[1, "二"]'
    a.clear()  # the list that failed, now plain: the encoder kept no trace of it
    assert encode([a, a]) == "[[], []]"
