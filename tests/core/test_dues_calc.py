"""Party-dues calculator: every band edge of the 2008 rates, the cliff, rounding."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.dues import farmer_range, propose, rate
from core.errors import UserError


@pytest.fixture(autouse=True)
def _env(dangjian_env):
    yield


@pytest.mark.parametrize("income, expected", [
    ("0", "0.00"),
    ("1000", "5.00"),
    ("3000.00", "15.00"),      # ≤ 3000 inclusive: 0.5 %
    ("3000.01", "30.00"),      # the cliff: 1 % of the whole income (30.0001 → 30.00)
    ("4999.99", "50.00"),
    ("5000", "50.00"),         # ≤ 5000: 1 %
    ("5000.01", "75.00"),      # 1.5 % of 5000.01 = 75.00015
    ("10000", "150.00"),       # ≤ 10000: 1.5 %
    ("10000.01", "200.00"),    # > 10000: 2 %
    ("25000", "500.00"),
    ("2999.99", "15.00"),      # 14.99995 rounds half up to 15.00
    ("1001", "5.01"),          # 5.005 → 5.01 (half up, not banker's)
    ("1003", "5.02"),          # 5.015 → 5.02
])
def test_employed_bands(income, expected):
    assert propose("employed", Decimal(income)) == Decimal(expected)


@pytest.mark.parametrize("income, expected", [
    ("5000", "25.00"),         # ≤ 5000: 0.5 %
    ("5000.01", "50.00"),      # > 5000: 1 %
    ("3000", "15.00"),
    ("8000", "80.00"),
    ("1001", "5.01"),
])
def test_retired_bands(income, expected):
    assert propose("retired", Decimal(income)) == Decimal(expected)


def test_fixed_classes_and_labels():
    for cls in ("student", "unemployed", "other", "学生", "失业", "其他"):
        assert propose(cls) == Decimal("0.20")
    assert propose("farmer", 3000) == Decimal("0.20")
    assert farmer_range() == (Decimal("0.20"), Decimal("1.00"))
    assert propose("在职", "3000.01") == Decimal("30.00")
    assert propose("离退休", 5000) == Decimal("25.00")


def test_rates_come_from_config():
    cfg = {"dues": {"employed": [[3000, 0.01], [-1, 0.02]], "retired": [[-1, 0.005]], "student": "0.50"}}
    assert propose("employed", 3000, cfg) == Decimal("30.00")
    assert propose("employed", 3001, cfg) == Decimal("60.02")
    assert propose("student", None, cfg) == Decimal("0.50")
    assert rate("employed", 100, cfg) == Decimal("0.01")
    assert rate("student", None, cfg) is None


def test_unknown_income_and_bad_input():
    assert propose("employed", None) is None
    assert propose("retired", "") is None
    with pytest.raises(UserError):
        propose("pilot", 100)
    with pytest.raises(UserError):
        propose("employed", "abc")
    with pytest.raises(UserError):
        propose("employed", -5)
