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
    """--lang, then DANGJIAN_LANG, then config ``lang``, then Chinese.

    Called for every message (hundreds of thousands in a city-wide check), so
    the config module is looked up once and only its already-loaded value read.
    """
    if _lang:
        return _lang
    env = os.environ.get("DANGJIAN_LANG")
    if env in ("zh", "en"):
        return env
    cfg = _config_module()._config
    if cfg is not None:
        return cfg.lang
    try:
        return _config_module().get().lang
    except Exception:
        return "zh"


_cfg_mod = None


def _config_module():
    global _cfg_mod
    if _cfg_mod is None:
        from core import config

        _cfg_mod = config
    return _cfg_mod


def tr(zh: str, en: str, **fmt) -> str:
    text = en if get_lang() == "en" else zh
    return text.format(**fmt) if fmt else text


def label(choice, code, lang: str | None = None) -> str:
    """The label of an enumeration code in the current language."""
    return choice.label(code, lang or get_lang())
