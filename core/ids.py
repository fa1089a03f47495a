"""公民身份号码 (GB 11643-1999): validation, birth date and sex, masking.

An 18-character number: 6-digit area code, 8-digit birth date, 3-digit
sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check
character (0-9 or X).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$", re.ASCII)


class IdNumberError(ValueError):
    """The reason an ID number is invalid, in Chinese (``.en`` holds English)."""

    def __init__(self, zh: str, en: str):
        super().__init__(zh)
        self.zh = zh
        self.en = en


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def normalize(text) -> str:
    """The number as ASCII digits and an upper-case X: full-width, Arabic-Indic and other
    decimal digit forms become 0-9, a full-width Ｘ or x becomes X, spaces go.  Anything
    else is left as it is (and then fails the shape check)."""
    s = str(text or "").strip()
    if s.isascii():
        return s.upper().replace(" ", "")
    out = []
    for ch in s:
        if ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        elif ch.isspace():
            continue
        else:
            folded = unicodedata.normalize("NFKC", ch)
            out.append(folded.upper() if folded.upper() == "X" else ch)
    return "".join(out)


def validate(text, today: dt.date | None = None) -> str:
    """Return the normalized number or raise :class:`IdNumberError`."""
    n = normalize(text)
    if len(n) != 18:
        raise IdNumberError(f"应为18位，实为{len(n)}位", f"must have 18 characters, has {len(n)}")
    if not _SHAPE.match(n):
        raise IdNumberError("前17位应为数字，末位为数字或X", "17 digits then a digit or X expected")
    try:
        birth = dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        raise IdNumberError(f"出生日期{n[6:14]}不存在", f"birth date {n[6:14]} does not exist") from None
    today = today or dt.date.today()
    if birth > today:
        raise IdNumberError(f"出生日期{birth.isoformat()}晚于今天", f"birth date {birth.isoformat()} is in the future")
    if birth.year < 1900:
        raise IdNumberError(f"出生日期{birth.isoformat()}早于1900年", f"birth date {birth.isoformat()} before 1900")
    expected = check_char(n[:17])
    if n[17] != expected:
        raise IdNumberError(f"校验位应为{expected}", f"checksum digit should be {expected}")
    return n


def is_valid(text, today: dt.date | None = None) -> bool:
    try:
        validate(text, today)
        return True
    except IdNumberError:
        return False


def birth_date(n: str) -> dt.date:
    n = normalize(n)
    return dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))


def sex(n: str) -> str:
    """'M' or 'F' from the sequence digit (odd: male)."""
    return "M" if int(normalize(n)[16]) % 2 == 1 else "F"


def mask(n: str | None) -> str:
    """``320583********536*``: the area code and the sequence digits (15–17) kept, the birth
    date (digits 7–14) and the check character hidden.  A 15-digit number keeps its area
    code and sequence; anything else keeps no more than its first third."""
    if not n:
        return ""
    n = str(n)
    if len(n) == 18:
        return n[:6] + "*" * 8 + n[14:17] + "*"
    if len(n) == 15:
        return n[:6] + "*" * 6 + n[12:]
    keep = min(6, len(n) // 3)
    return n[:keep] + "*" * (len(n) - keep)


def mask_phone(p: str | None) -> str:
    """``138****5678``."""
    if not p:
        return ""
    p = str(p)
    if len(p) < 7:
        return "*" * len(p)
    return p[:3] + "*" * (len(p) - 7) + p[-4:]


def make(area: str, birth: dt.date, seq: int) -> str:
    """Build a valid number (for demos and tests): ``seq`` 0–999, odd for men."""
    first = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first + check_char(first)


def age_on(birth: dt.date, on: dt.date) -> int:
    """Completed years on ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
