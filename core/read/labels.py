"""How the read queries and the screens show a coded value (numbers: :mod:`core.numbers`)."""
from __future__ import annotations

from core.i18n import get_lang


def lab(choice, code) -> str:
    """The label of ``code`` in the value set ``choice`` (:mod:`core.enums`), in the interface language."""
    return choice.label(code, get_lang()) if code is not None else ""
