"""LazyTable: a Line-API table for lists of any length (长列表).

Measured: a ``DataTable`` with 100k rows takes 35 s and 231 MB on first
refresh, so long lists are a ``ScrollView`` whose ``render_line`` reads rows
from 200-row blocks fetched from SQL on demand into a small LRU cache.
Blocks are keyset-paged (``id > last key of the previous block``); a block
far from any known key is reached with one ``seek`` (the key of the n-th row
after the nearest known one), never by paging through everything.

The data comes from a :class:`PagedSource`: ``count()``, ``page(after_key,
limit)`` (rows whose first element is the key) and ``seek(after_key, n)``.
The screen computes ``count()`` and the first block in a worker and hands
them over with :meth:`LazyTable.set_source`; later blocks are fetched as the
user scrolls (a keyset page is ~1 ms).

Columns are padded in terminal cells (``rich.cells``), so Chinese lines up.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip

from core.text import printable
from tui.api import fit

BLOCK = 200
CACHE_BLOCKS = 64


class PagedSource(Protocol):
    def count(self) -> int: ...

    def page(self, after_key: Any, limit: int) -> list[tuple]: ...

    def seek(self, after_key: Any, n: int) -> Any: ...


class ListSource:
    """A PagedSource over an in-memory list of rows (row[0] is the key; keys in list order)."""

    def __init__(self, rows: list[tuple]):
        self.rows = list(rows)
        self._pos = {r[0]: i for i, r in enumerate(self.rows)}

    def count(self) -> int:
        return len(self.rows)

    def _start(self, after_key) -> int:
        return 0 if after_key is None else self._pos[after_key] + 1

    def page(self, after_key, limit):
        s = self._start(after_key)
        return self.rows[s:s + limit]

    def seek(self, after_key, n):
        i = self._start(after_key) + n - 1
        return self.rows[i][0] if 0 <= i < len(self.rows) else None


@dataclass
class Column:
    """A column: title, width in cells (0 = takes the remaining width), and how to show a row."""
    title: str
    width: int
    get: Callable[[tuple], str]
    align: str = "left"
    min_width: int = 6
    show_from: int = 0  # shown only when the table is at least this wide (more room, more columns)
    max_width: int = 0  # a fixed column grows up to this on a wide terminal (0: stays at ``width``)


class RowDetail(ModalScreen):
    """A table row in full: one "title  value" line per column (values wrap); Esc/v/Enter closes."""

    BINDINGS = [Binding("escape,v,enter", "close", "关闭|Close", id="rowdetail.close")]
    DEFAULT_CSS = """
    RowDetail { align: center middle; }
    RowDetail > VerticalScroll { width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1; }
    """

    def __init__(self, items: list[tuple[str, str]]):
        super().__init__()
        self.items = items

    def compose(self):
        from rich.table import Table
        from textual.containers import VerticalScroll
        from textual.widgets import Static

        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold", no_wrap=True)
        t.add_column(overflow="fold")
        for title, value in self.items:
            t.add_row(title, value)
        with VerticalScroll():
            yield Static(t, id="row-detail")

    def action_close(self) -> None:
        self.dismiss(None)


class LazyTable(ScrollView, can_focus=True):
    """A keyboard-driven table over a :class:`PagedSource`."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "上移|Up", show=False, id="table.up"),
        Binding("down", "cursor(1)", "下移|Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "上一页|Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "下一页|Page down", show=False, id="table.page_down"),
        Binding("home", "first", "第一行|First", show=False, id="table.first"),
        Binding("end", "last", "最后一行|Last", show=False, id="table.last"),
        Binding("enter", "select", "打开|Open", id="table.open"),
        Binding("v", "detail", "查看整行|Whole row", show=False, id="table.detail"),
        Binding("left", "hscroll(-1)", "左移一列|Column left", show=False, id="table.left"),
        Binding("right", "hscroll(1)", "右移一列|Column right", show=False, id="table.right"),
    ]
    COMPONENT_CLASSES = {"lazytable--header", "lazytable--cursor", "lazytable--empty", "lazytable--odd"}
    DEFAULT_CSS = """
    LazyTable { height: 1fr; overflow-x: hidden; overflow-y: auto; scrollbar-size-vertical: 1; }
    LazyTable > .lazytable--header { text-style: bold; background: $primary 30%; }
    LazyTable > .lazytable--cursor { background: $accent 40%; }
    LazyTable:focus > .lazytable--cursor { background: $accent; color: $text; }
    LazyTable > .lazytable--empty { color: $text-muted; }
    LazyTable > .lazytable--odd { }
    """

    cursor = reactive(0, repaint=False, init=False)

    class Selected(Message):
        """Enter (or a click) on a row."""

        def __init__(self, table: "LazyTable", key: Any, row: tuple):
            super().__init__()
            self.table = table
            self.key = key
            self.row = row

        @property
        def control(self):
            return self.table

    class Highlighted(Message):
        def __init__(self, table: "LazyTable", key: Any, row: tuple | None):
            super().__init__()
            self.table = table
            self.key = key
            self.row = row

        @property
        def control(self):
            return self.table

    def __init__(self, columns: list[Column], *, empty_text: str = "", row_style: Callable | None = None,
                 name: str | None = None, id: str | None = None, classes: str | None = None, frozen: int = 0):
        super().__init__(name=name, id=id, classes=classes)
        self.columns = columns
        self.frozen = frozen  # columns that stay on the left when ← → scroll the others
        self.col_offset = 0  # columns scrolled out of view on the left (after the frozen ones)
        self.empty_text = empty_text
        self.row_style = row_style
        self.source: PagedSource | None = None
        self.total = 0
        self._blocks: OrderedDict[int, list[tuple]] = OrderedDict()
        self._bounds: dict[int, Any] = {0: None}
        self.fetches = 0  # blocks fetched from the source (for tests and the bench)

    # ------------------------------------------------------------ data
    def set_source(self, source: PagedSource | None, total: int | None = None,
                   first_block: list[tuple] | None = None, cursor: int = 0) -> None:
        """Show ``source`` (``total`` and ``first_block`` precomputed in a worker if given)."""
        self.source = source
        self._blocks.clear()
        self._bounds = {0: None}
        if source is None:
            self.total = 0
        else:
            self.total = source.count() if total is None else total
            if first_block is not None:
                self._store(0, first_block)
        self.cursor = max(0, min(cursor, self.total - 1)) if self.total else 0
        size = Size(self._table_width(), self.total + 1)
        if size != self.virtual_size:  # a change costs a layout pass
            self.virtual_size = size
        self.scroll_to(y=0, animate=False)
        self._keep_cursor_visible()
        self.refresh()
        self.post_message(self.Highlighted(self, *self._key_row(self.cursor)))

    def _store(self, b: int, rows: list[tuple]) -> None:
        self._blocks[b] = rows
        self._blocks.move_to_end(b)
        if len(rows) == BLOCK:
            self._bounds[b + 1] = rows[-1][0]
        while len(self._blocks) > CACHE_BLOCKS:
            self._blocks.popitem(last=False)

    def _block(self, b: int) -> list[tuple]:
        if b in self._blocks:
            self._blocks.move_to_end(b)
            return self._blocks[b]
        if self.source is None:
            return []
        if b in self._bounds:
            after = self._bounds[b]
        else:
            j = max(k for k in self._bounds if k < b)
            after = self.source.seek(self._bounds[j], (b - j) * BLOCK)
            if after is None:
                return []
            self._bounds[b] = after
        rows = self.source.page(after, BLOCK)
        self.fetches += 1
        self._store(b, rows)
        return rows

    def row_at(self, index: int) -> tuple | None:
        if not 0 <= index < self.total:
            return None
        rows = self._block(index // BLOCK)
        i = index % BLOCK
        return rows[i] if i < len(rows) else None

    def _key_row(self, index: int) -> tuple[Any, tuple | None]:
        row = self.row_at(index)
        return (row[0] if row else None), row

    @property
    def cursor_row(self) -> tuple | None:
        return self.row_at(self.cursor)

    @property
    def cursor_key(self) -> Any:
        row = self.cursor_row
        return row[0] if row else None

    def reload(self) -> None:
        """Forget cached blocks (the data changed); keep the cursor where it was."""
        self.set_source(self.source, cursor=self.cursor)

    # ------------------------------------------------------------ layout
    def visible_columns(self, width: int | None = None) -> list[Column]:
        width = self.scrollable_content_region.width if width is None else width
        return [c for c in self.columns if width >= c.show_from]

    def _layout(self, width: int) -> tuple[list[Column], list[int]]:
        """The columns drawn (the frozen ones, then from ``col_offset``) and their widths."""
        cols = self.visible_columns(width)
        off = min(self.col_offset, self._max_offset(width))
        if off:
            cols = cols[:self.frozen] + cols[self.frozen + off:]
        return cols, self._widths(width, cols)

    def _overflows(self, width: int, cols: list[Column]) -> bool:
        ws = self._widths(width, cols)
        return sum(ws) + len(ws) - 1 > width

    def _max_offset(self, width: int) -> int:
        cols = self.visible_columns(width)
        off = 0
        while self.frozen + off < len(cols) - 1 and self._overflows(width, cols[:self.frozen] + cols[self.frozen + off:]):
            off += 1
        return off

    def action_hscroll(self, delta: int) -> None:
        """← →: scroll the columns sideways when they do not fit (the frozen ones stay)."""
        width = self.scrollable_content_region.width
        new = max(0, min(self._max_offset(width), self.col_offset + int(delta)))
        if new != self.col_offset:
            self.col_offset = new
            self.refresh()

    @property
    def hidden_columns(self) -> tuple[int, int]:
        """(columns scrolled out on the left, columns cut on the right) at the current width."""
        width = self.scrollable_content_region.width or 80
        cols, widths = self._layout(width)
        used, shown = -1, 0
        for w in widths:
            if used + 1 + w > width:
                break
            used += 1 + w
            shown += 1
        return min(self.col_offset, self._max_offset(width)), len(cols) - shown

    def _widths(self, width: int, cols: list[Column] | None = None) -> list[int]:
        cols = self.visible_columns(width) if cols is None else cols
        fixed = sum(c.width for c in cols if c.width) + len(cols) - 1
        flex = [c for c in cols if not c.width]
        rest = max(0, width - fixed)
        # a wide terminal: fixed columns with a max_width grow, the flexible ones keep 24 cells each
        grow = [i for i, c in enumerate(cols) if c.width and c.max_width > c.width]
        extra_w = {i: 0 for i in grow}
        spare = rest - sum(max(c.min_width, 24) for c in flex) if flex else rest
        while spare > 0 and grow:
            step = False
            for i in grow:
                if spare > 0 and cols[i].width + extra_w[i] < cols[i].max_width:
                    extra_w[i] += 1
                    spare -= 1
                    step = True
            if not step:
                break
        rest -= sum(extra_w.values())
        out = []
        for i, c in enumerate(cols):
            if c.width:
                out.append(c.width + extra_w.get(i, 0))
            else:
                out.append(max(c.min_width, rest // max(1, len(flex))))
        return out

    def _table_width(self) -> int:
        return max(1, self.scrollable_content_region.width or 80)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self._table_width(), self.total + 1)
        self._keep_cursor_visible()

    def _cells(self, texts: list[str], widths: list[int], cols: list[Column]) -> str:
        parts = []
        for text, w, col in zip(texts, widths, cols):
            text = printable((text or "").replace("\n", " "))
            if col.align == "right" and cell_len(text) < w:
                text = " " * (w - cell_len(text)) + text
            parts.append(fit(text, w, pad=True))
        return " ".join(parts)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        cols, widths = self._layout(width)
        if y == 0:
            style = self.get_component_rich_style("lazytable--header")
            text = set_cell_size(self._cells([c.title for c in cols], widths, cols), width)
            if sum(widths) + len(widths) - 1 > width and width > 2:  # more columns to the right: → scrolls
                text = set_cell_size(text, width - 2) + " →"
            return Strip([Segment(text, style)], width)
        index = int(self.scroll_offset.y) + y - 1
        base = self.rich_style
        if self.total == 0:
            if y == 1 and self.empty_text:
                style = self.get_component_rich_style("lazytable--empty")
                return Strip([Segment(set_cell_size(self.empty_text, width), style)], width)
            return Strip.blank(width, base)
        row = self.row_at(index)
        if row is None:
            return Strip.blank(width, base)
        texts = []
        for c in cols:
            try:
                texts.append(str(c.get(row) or ""))
            except Exception:  # a bad cell never breaks the table
                texts.append("?")
        style = base
        if self.row_style is not None:
            extra = self.row_style(row)
            if extra:
                style = style + Style.parse(extra)
        if index == self.cursor:
            style = style + self.get_component_rich_style("lazytable--cursor")
        return Strip([Segment(set_cell_size(self._cells(texts, widths, cols), width), style)], width)

    # ------------------------------------------------------------ cursor
    def _rows_visible(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _keep_cursor_visible(self) -> None:
        top = int(self.scroll_offset.y)
        h = self._rows_visible()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + h:
            self.scroll_to(y=self.cursor - h + 1, animate=False)

    def watch_cursor(self, old: int, new: int) -> None:
        self._keep_cursor_visible()
        self.refresh()
        self.post_message(self.Highlighted(self, *self._key_row(new)))

    def move_cursor(self, index: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, index))

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + int(delta))

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor + int(direction) * self._rows_visible())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(self.total - 1)

    def action_select(self) -> None:
        row = self.cursor_row
        if row is not None:
            self.post_message(self.Selected(self, row[0], row))

    def action_detail(self) -> None:
        """v: every column of the highlighted row in full (a cell cut with "…" shows whole)."""
        row = self.cursor_row
        if row is None:
            return
        items = []
        for c in self.columns:
            try:
                value = str(c.get(row) or "")
            except Exception:
                value = "?"
            items.append((c.title, printable(value)))
        self.app.push_screen(RowDetail(items))

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            index = int(self.scroll_offset.y) + event.y - 1
            if 0 <= index < self.total:
                self.cursor = index
                if event.chain >= 2:
                    self.action_select()
