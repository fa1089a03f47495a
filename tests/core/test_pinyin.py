"""Pinyin initials: pypinyin's character table read directly gives what lazy_pinyin gives."""
from __future__ import annotations

import pytest

from core import pinyin


@pytest.mark.parametrize("name, expected", [
    ("张伟", "zw"), ("周华", "zh"), ("单雄信", "sxx"), ("曾国藩", "zgf"), ("区家明", "ojm"),
    ("尉迟恭", "ycg"), ("欧阳修", "oyx"), ("安娜", "an"), ("Li Lei", "lilei"), ("", ""), (None, ""),
    ("嗯", "n"), ("张 伟", "zw"),
])
def test_initials(name, expected):
    assert pinyin.initials(name) == expected


def test_table_gives_what_lazy_pinyin_gives_for_every_character():
    from pypinyin import Style, lazy_pinyin

    table = pinyin._table()
    assert table is not None and len(table) > 20000, "pypinyin's pinyin_dict.py was not found"
    chars = [chr(cp) for cp in table]
    got = [pinyin._char_initial.__wrapped__(c) for c in chars]
    want = [(o[0][:1].lower() if o and o[0] else "") for o in
            (lazy_pinyin(c, style=Style.FIRST_LETTER, errors="ignore") for c in chars)]
    wrong = [(c, g, w) for c, g, w in zip(chars, got, want) if g != w]
    assert not wrong, wrong[:20]


def test_without_the_table_lazy_pinyin_is_used(monkeypatch):
    monkeypatch.setattr(pinyin, "_TABLE", {})
    pinyin._char_initial.cache_clear()
    try:
        assert pinyin.initials("张伟") == "zw"
        assert pinyin._table() is None
    finally:
        monkeypatch.undo()
        pinyin._char_initial.cache_clear()
