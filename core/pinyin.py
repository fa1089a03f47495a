"""Pinyin initials for name search (拼音首字母), e.g. 张伟 → ``zw``.

Computed once per record and stored in an indexed column.  pypinyin per row
costs ~30 µs, so initials are cached per character; surnames with a special
reading (单 Shan, 曾 Zeng, 区 Ou, 解 Xie …) come from a small table when they
stand first.

A character's initial is the first letter of its first reading in pypinyin's
own character table (``pypinyin/pinyin_dict.py``), which is loaded by itself:
importing the whole of pypinyin (its phrase dictionary, the segmenter) takes
~0.15 s against 0.025 s, and gives the same letter for every character in the
table (checked in the tests).  Where the table cannot be found, pypinyin's
``lazy_pinyin`` is used.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

SURNAMES = {
    "单": "s", "曾": "z", "区": "o", "解": "x", "仇": "q", "朴": "p", "查": "z", "盖": "g",
    "缪": "m", "尉": "y", "乐": "y", "覃": "q", "翟": "z", "繁": "p", "员": "y", "召": "s",
    "种": "c", "秘": "b", "万俟": "mq", "尉迟": "yc", "长孙": "zs", "宁": "n", "任": "r",
    "沈": "s", "石": "s", "薄": "b", "都": "d", "华": "h", "纪": "j", "隗": "w", "牟": "m",
}


_TABLE: dict | None = None


def _table() -> dict | None:
    """pypinyin's character table (code point -> "zhāng,zhǎng"), without importing pypinyin; None if not found."""
    global _TABLE
    if _TABLE is None:
        try:
            import importlib.util
            import os

            spec = importlib.util.find_spec("pypinyin")
            path = os.path.join(os.path.dirname(spec.origin), "pinyin_dict.py")
            data = importlib.util.spec_from_file_location("_dangjian_pinyin_dict", path)
            mod = importlib.util.module_from_spec(data)
            data.loader.exec_module(mod)
            _TABLE = mod.pinyin_dict if isinstance(getattr(mod, "pinyin_dict", None), dict) else {}
        except Exception:  # another pypinyin layout: lazy_pinyin below
            _TABLE = {}
    return _TABLE or None


def _lazy_initial(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    out = lazy_pinyin(ch, style=Style.FIRST_LETTER, errors="ignore")
    return (out[0][:1].lower() if out and out[0] else "")


@lru_cache(maxsize=65536)
def _char_initial(ch: str) -> str:
    if ch.isascii():
        return ch.lower() if ch.isalnum() else ""
    table = _table()
    if table is None:
        return _lazy_initial(ch)
    reading = table.get(ord(ch))
    if not reading:
        return ""
    return unicodedata.normalize("NFD", reading[0])[0].lower()  # ā -> a, ń -> n


def initials(name: str | None) -> str:
    """Initials of a Chinese name; compound and polyphonic surnames read as surnames."""
    if not name:
        return ""
    name = name.strip()
    head = ""
    for length in (2, 1):
        if name[:length] in SURNAMES and len(name) > length:
            head, name = SURNAMES[name[:length]], name[length:]
            break
    return head + "".join(map(_char_initial, name))
