"""Record kinds: one declaration per kind, read by validation, forms, import, export and templates.

The test plugin below is the whole of a new kind: a model registered through
``dangjian_register_models`` and one ``Kind`` through ``dangjian_register_kinds``
— and the kind gets a form (driven with Pilot at 80x24), ``dangjian import``,
``export`` and ``template``, and the records screen's menu, touching no other module.
"""
from __future__ import annotations

import csv
import datetime as dt

import pytest

from core import ids, kinds, records
from core import models as m

HALL_PLUGIN = '''
from peewee import CharField, DateField, ForeignKeyField, IntegerField
from core import hookimpl
from core.kinds import Field, Kind
from core.models import BaseModel, Community, Member

class HallBooking(BaseModel):
    """活动室预约 (a test-only record kind)."""
    community = ForeignKeyField(Community, on_delete="CASCADE")
    date = DateField()
    room = CharField(max_length=32)
    member = ForeignKeyField(Member, null=True, on_delete="SET NULL")
    people = IntegerField(default=1)
    note = CharField(max_length=256, null=True)

    class Meta:
        table_name = "test_hall_booking"


@hookimpl
def dangjian_register_models(register):
    register(HallBooking)


@hookimpl
def dangjian_register_kinds(register):
    register(Kind("hall_bookings", HallBooking, "活动室预约", "Hall bookings", [
        Field("community", "社区编码", "community code", "ref:community", required=True),
        Field("date", "日期", "date", "date", required=True),
        Field("room", "活动室", "room", required=True, max_length=32),
        Field("member", "预约人身份号码", "member ID number", "idref:member"),
        Field("people", "人数", "people", "int"),
        Field("note", "说明", "note", max_length=256, multiline=True, optional_column=True),
    ], key=("community", "date", "room"), community=("community",)))


@hookimpl
def dangjian_validate_record(kind, record):
    if kind == "hall_bookings" and record.get("room") == "屋顶":
        return ["没有这个活动室"]
    return []
'''


@pytest.fixture
def hall(plugin_kit):
    from core import migrations

    kit = plugin_kit.write("hall", HALL_PLUGIN)
    assert kit.errors() == []
    migrations.plugin_tables()
    return kit


def _bookings():
    model = kinds.get("hall_bookings").model
    return list(model.select().order_by(model.date).dicts())


def test_a_plugin_kind_is_one_declaration(hall):
    kind = kinds.get("hall_bookings")
    assert kind.plugin == "hall" and kind.key == ("community", "date", "room")
    assert kind.headers == ["社区编码", "日期", "活动室", "预约人身份号码", "人数", "说明"]
    assert kind.personal == ("member",) and kind.multiline == ("note",)
    assert "hall_bookings" in kinds.names() and kinds.of_model(kind.model) is kind
    assert records.path_fields(kind.model)[0].name == "community"


def test_a_plugin_kind_gets_template_import_and_export(hall, tmp_path):
    template = tmp_path / "t.csv"
    code, _out, err = hall.cli("template", "hall_bookings", template)
    assert code == 0, err
    header = next(csv.reader(template.open(encoding="utf-8-sig")))
    assert header == ["社区编码", "日期", "活动室", "预约人身份号码", "人数", "说明"]

    member = m.Member.select().order_by(m.Member.id).first()
    rows = [["BC01", "2025-03-01", "一楼", member.id_number, "12", "党课\n第二行"],
            ["YS01", "2025-03-02", "二楼", "", "", ""]]
    src = tmp_path / "bookings.csv"
    with src.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    code, _out, err = hall.cli("import", "hall_bookings", src)
    assert code == 0, err
    got = _bookings()
    assert [(b["room"], b["member"], b["people"], b["note"]) for b in got] == [
        ("一楼", member.id, 12, "党课\n第二行"), ("二楼", None, 1, None)]
    assert m.AuditLog.select().where(m.AuditLog.table == "test_hall_booking").count() == 2
    code, _out, err = hall.cli("import", "hall_bookings", src)  # the natural key: nothing changes
    assert code == 0 and "未变 2" in err, err

    out = tmp_path / "out.csv"
    code, _out, err = hall.cli("export", "hall_bookings", out)
    assert code == 0, err
    exported = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert exported[0][0].startswith("#")  # the member's ID number is personal data: masked for this user
    masked = [*rows[0][:3], ids.mask(member.id_number), *rows[0][4:]]
    # a masked export ends with 标识: the ref of each record, so coinciding masked ID numbers stay apart
    assert [r[:-1] for r in exported[1:]] == [header, masked, ["YS01", "2025-03-02", "二楼", "", "1", ""]]
    assert exported[1][-1] == "标识" and len({r[-1] for r in exported[2:]}) == 2

    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([header, ["BC01", "2025-03-05", "屋顶", "", "", ""],
                                  ["XX99", "2025-03-05", "一楼", "", "", ""]])
    code, _out, err = hall.cli("import", "hall_bookings", bad)
    assert code == 2
    assert "row 2" in err and "没有这个活动室" in err
    assert "row 3, 社区编码" in err and "XX99" in err
    assert len(_bookings()) == 2


def test_a_plugin_kind_gets_a_form(hall):
    from tests.tui.ledger_fixtures import open_screen, run, screen_text, settle
    from tui.widgets.form import FormScreen

    async def body():
        async with open_screen(FormScreen("hall_bookings")) as (app, pilot):
            form = app.screen
            assert "活动室预约" in screen_text(app) and "活动室" in screen_text(app)
            await pilot.press(*"BC01")  # the first field (community code) has the focus
            form.query_one("#f-date").value = "2025-04-01"
            form.query_one("#f-room").value = "屋顶"
            await pilot.press("f10")
            await settle(pilot)
            assert isinstance(app.screen, FormScreen)  # the plugin's own check
            assert "没有这个活动室" in screen_text(app)
            form.query_one("#f-room").value = "三楼"
            form.query_one("#f-people").value = "x"
            await pilot.press("f10")
            await settle(pilot)
            assert "不是整数" in str(form.query_one("#err-people").render())
            form.query_one("#f-people").value = "8"
            await pilot.press("f10")
            await settle(pilot)
            assert not isinstance(app.screen, FormScreen), form.last_result
        got = _bookings()
        assert [(b["room"], b["people"], b["date"]) for b in got] == [("三楼", 8, dt.date(2025, 4, 1))]
        row = m.AuditLog.get(m.AuditLog.table == "test_hall_booking")
        assert row.action == "create" and row.community == m.Community.get(m.Community.code == "BC01").id

        booking = got[0]
        async with open_screen(FormScreen("hall_bookings", booking["id"])) as (app, pilot):
            form = app.screen
            assert form.query_one("#f-community").value == "BC01"
            assert form.query_one("#f-room").value == "三楼"
            form.query_one("#f-note").value = "已确认"
            await pilot.press("f10")
            await settle(pilot)
            assert not isinstance(app.screen, FormScreen), form.last_result
        assert _bookings()[0]["note"] == "已确认" and _bookings()[0]["version"] == 2

    run(body)


def test_the_records_screen_offers_plugin_kinds(hall):
    from tests.tui.ledger_fixtures import open_screen, run, screen_text, settle
    from tui.screens.records import RecordsScreen

    model = kinds.get("hall_bookings").model
    comm = m.Community.get(m.Community.code == "BC01")
    records.create(model, {"community": comm.id, "date": dt.date(2025, 5, 1), "room": "会议室甲"})

    async def body():
        async with open_screen(RecordsScreen(kind="hall_bookings")) as (app, pilot):
            await settle(pilot)
            menu = app.screen.query_one("#rec-kinds")
            assert menu.get_option("hall_bookings").prompt == "活动室预约"
            assert "会议室甲" in screen_text(app) and "活动室预约：1" in screen_text(app)

    run(body)


def test_a_declaration_that_cannot_work_is_reported(plugin_kit):
    kit = plugin_kit.write("broken_kind", '''
from core import hookimpl
from core.kinds import Field, Kind
from core.models import Visit

@hookimpl
def dangjian_register_kinds(register):
    register(Kind("visits_again", Visit, "x", "x", [Field("nope", "不存在", "nope", required=True, key=True)]))
''')
    assert any("dangjian_register_kinds" in e and "nope" in e for _p, e in kit.errors())
    assert kinds.find("visits_again") is None


def test_write_path_derives_once(dangjian_city):
    """Pinyin initials, sex and birth date, the organization's community: one home, for a
    single record (the forms) and a block (the importer)."""
    kind = kinds.get("members")
    org = m.Organization.select().where(m.Organization.community.is_null(False)).first()
    rows = [{"name": "张伟", "id_number": "11010519491231002X", "organization": org.id, "community": None},
            {"name": "单田芳", "id_number": "110105194912310037", "organization": None, "community": None,
             "retired": None}]
    records.derive(kind, rows)
    assert rows[0]["initials"] == "zw" and rows[0]["community"] == org.community_id
    assert rows[0]["sex"] == "F" and rows[0]["birth_date"] == dt.date(1949, 12, 31)
    assert rows[1]["initials"] == records.initials_of("单田芳") and rows[1]["retired"] is False
    assert rows[1]["community"] is None


def test_worker_posts_keep_their_history():
    start, later = dt.date(2024, 1, 1), dt.date(2025, 3, 1)
    ops, err = records.post_changes({"secretary": start}, ["secretary", "director"], later)
    assert err is None and ops["add"] == [("director", later)] and ops["end"] == []
    ops, err = records.post_changes({"secretary": start, "director": later}, ["director"], dt.date(2025, 6, 1))
    assert ops["end"] == [("secretary", dt.date(2025, 6, 1))]
    _ops, err = records.post_changes({"secretary": later}, ["director"], start)
    assert err and err[0] == "post_date"
    assert records.post_changes({"secretary": start}, ["secretary"], start) == (None, None)
