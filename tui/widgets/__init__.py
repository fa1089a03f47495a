"""Shared widgets and text helpers of the terminal app.

- :mod:`tui.widgets.lazytable` — ``LazyTable`` (Line API, keyset-paged blocks) for long lists.
- :func:`text_table` — a small table as Rich ``Text``, padded by terminal cells so Chinese lines up.
- :func:`bar` — a horizontal bar drawn with coloured spaces (no East-Asian-ambiguous block characters).
"""
from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from core.text import printable


def pad(text, width: int, align: str = "left") -> str:
    text = "" if text is None else printable(str(text))
    if align == "right" and cell_len(text) < width:
        text = " " * (width - cell_len(text)) + text
    return set_cell_size(text, width)


def text_table(headers: list[str], rows: list[list], max_width: int | None = None,
               aligns: list[str] | None = None, styles: list[str | None] | None = None) -> Text:
    """A plain table: column widths from the widest cell (in terminal cells);
    the last column is cut to ``max_width``.  ``styles`` gives a Rich style per row."""
    cols = len(headers)
    data = [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max([cell_len(headers[i])] + [cell_len(r[i]) for r in data if i < len(r)]) for i in range(cols)]
    if max_width:
        fixed = sum(widths[:-1]) + 2 * (cols - 1)
        widths[-1] = max(4, min(widths[-1], max_width - fixed))
    aligns = aligns or ["left"] * cols
    out = Text()
    out.append("  ".join(pad(h, w, a) for h, w, a in zip(headers, widths, aligns)).rstrip(), style="bold")
    for i, r in enumerate(data):
        out.append("\n")
        line = "  ".join(pad(r[j] if j < len(r) else "", widths[j], aligns[j]) for j in range(cols)).rstrip()
        out.append(line, style=(styles[i] if styles and i < len(styles) and styles[i] else ""))
    return out


def bar(value: float, maximum: float, width: int, style: str = "on green") -> Text:
    """A bar of ``width`` cells at most, proportional to value/maximum."""
    n = 0 if maximum <= 0 else round(width * max(0.0, min(1.0, value / maximum)))
    if value > 0 and n == 0:
        n = 1
    t = Text()
    t.append(" " * n, style=style)
    t.append(" " * (width - n))
    return t
