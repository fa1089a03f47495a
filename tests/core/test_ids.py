import datetime as dt

import pytest
from hypothesis import given, strategies as st

from core import ids


def test_known_valid_number():
    # GB 11643 example
    assert ids.validate("11010519491231002X") == "11010519491231002X"
    assert ids.birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert ids.sex("11010519491231002X") == "F"


def test_lowercase_x_normalised():
    assert ids.validate("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("bad, reason", [
    ("11010519491231002", "18"),
    ("1101051949123100XX", "数字"),
    ("110105194902300021", "不存在"),  # 30 February
    ("110105194912310021", "校验位应为X"),
])
def test_invalid_numbers_say_why(bad, reason):
    with pytest.raises(ids.IdNumberError) as exc:
        ids.validate(bad)
    assert reason in str(exc.value)


def test_future_birth_date_rejected():
    n = ids.make("320583", dt.date(2030, 1, 1), 11)
    with pytest.raises(ids.IdNumberError, match="晚于今天"):
        ids.validate(n, today=dt.date(2026, 11, 28))
    assert ids.validate(n, today=dt.date(2030, 1, 1)) == n


def test_mask():
    assert ids.mask("32058319800101123X") == "320583********123*"  # birth date and check character hidden
    assert ids.mask("320583198001015368") == "320583********536*"
    assert ids.mask(ids.mask("320583198001015368")) == "320583********536*"
    assert ids.mask_phone("13812345678") == "138****5678"
    assert ids.mask(None) == ""


def test_age_on_boundary():
    b = dt.date(1980, 6, 15)
    assert ids.age_on(b, dt.date(2025, 6, 14)) == 44
    assert ids.age_on(b, dt.date(2025, 6, 15)) == 45


births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 1, 1))


@given(births, st.integers(0, 999), st.sampled_from(["320583", "110105", "440301"]))
def test_made_numbers_validate_and_roundtrip(birth, seq, area):
    n = ids.make(area, birth, seq)
    assert ids.validate(n, today=dt.date(2026, 11, 28)) == n
    assert ids.birth_date(n) == birth
    assert ids.sex(n) == ("M" if seq % 2 else "F")
    masked = ids.mask(n)
    assert masked == area + "*" * 8 + n[14:17] + "*"


@given(births, st.integers(0, 999), st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_is_caught(birth, seq, pos, delta):
    n = ids.make("320583", birth, seq)
    d = str((int(n[pos]) + delta) % 10)
    changed = n[:pos] + d + n[pos + 1:]
    # MOD 11-2 detects every single-digit substitution (or the date becomes impossible)
    assert not ids.is_valid(changed, today=dt.date(2100, 1, 1))


@given(st.text(max_size=30))
def test_garbage_never_crashes(text):
    try:
        ids.validate(text)
    except ids.IdNumberError as exc:
        assert exc.zh and exc.en
