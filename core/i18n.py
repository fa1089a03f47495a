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


class using:
    """``with using("en"):`` — the language set for the block only (None: unchanged), then
    what it was before (the command line's help is built and parsed in the language of
    ``--lang`` before the global options are applied)."""

    def __init__(self, lang: str | None):
        self.lang = lang if lang in ("zh", "en") else None

    def __enter__(self):
        global _lang
        self.before = _lang
        if self.lang:
            _lang = self.lang
        return self

    def __exit__(self, *exc):
        global _lang
        _lang = self.before
        return False


#: argparse's own messages in Chinese (its gettext catalogue; :func:`argparse_gettext`)
_ARGPARSE_ZH = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "the following arguments are required: %s": "缺少以下参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选项值：%(value)r（可选：%(choices)s）",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "expected one argument": "需要一个值",
    "expected at most one argument": "至多需要一个值",
    "expected at least one argument": "至少需要一个值",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    "ambiguous option: %(option)s could match %(matches)s": "有歧义的选项：%(option)s 可能是 %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "多余的参数值 %r",
    "one of the arguments %s is required": "需要以下参数之一：%s",
    "unexpected option string: %s": "意外的选项：%s",
    "can't open '%(filename)s': %(error)s": "无法打开 '%(filename)s'：%(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知命令 %(parser_name)r（可选：%(choices)s）",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "expected %s argument": "需要 %s 个值",
    "expected %s arguments": "需要 %s 个值",
}


def argparse_gettext(message: str) -> str:
    """argparse's gettext: its message in the interface language."""
    return _ARGPARSE_ZH.get(message, message) if get_lang() == "zh" else message


def argparse_ngettext(singular: str, plural: str, n: int) -> str:
    return argparse_gettext(singular if n == 1 else plural)
