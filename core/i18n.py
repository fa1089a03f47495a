"""One translation function for user-facing text: ``tr(zh, en, **fmt)``.

Every message is written in both languages where it is used, so English is
complete by construction.  The language is Chinese by default; ``--lang en``,
``DANGJIAN_LANG`` or config ``lang`` switch it.
"""
from __future__ import annotations

import os

_lang: str | None = None


def set_lang(lang: str | None) -> None:
    global _lang
    if lang not in (None, "zh", "en"):
        raise ValueError(f"language must be zh or en, not {lang!r}")
    _lang = lang


def get_lang() -> str:
    if _lang:
        return _lang
    env = os.environ.get("DANGJIAN_LANG")
    if env in ("zh", "en"):
        return env
    try:
        from core import config

        return config.get().lang
    except Exception:
        return "zh"


def tr(zh: str, en: str, **fmt) -> str:
    text = en if get_lang() == "en" else zh
    return text.format(**fmt) if fmt else text


def label(choice, code, lang: str | None = None) -> str:
    """The label of an enumeration code in the current language."""
    return choice.label(code, lang or get_lang())
