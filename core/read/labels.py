"""How the read queries and the screens show a coded value and an amount of money."""
from __future__ import annotations

from decimal import Decimal

from core.i18n import get_lang


def lab(choice, code) -> str:
    """The label of ``code`` in the value set ``choice`` (:mod:`core.enums`), in the interface language."""
    return choice.label(code, get_lang()) if code is not None else ""


def money(value) -> str:
    """An amount with two decimals ('' for none)."""
    if value is None:
        return ""
    return f"{Decimal(value):.2f}"
