"""The single-record write path keeps the history as imports do: a member's organization and
class change only through dated moves, a class change sets the chain and the member's class,
a meeting fits its organization's kind."""
from __future__ import annotations

import datetime as dt

import pytest

from core import records, roster
from core.models import ClassChange, Member, Organization, RosterPeriod
from tests.core.test_records import as_user, build_tree

D = dt.date


@pytest.fixture
def tree(dangjian_db):
    t = build_tree()
    as_user("admin", "city", full=True)
    return t


def _member(t, code="A1"):
    return Member.get_by_id(t["member"][code].id)


def test_an_edit_may_not_move_a_member_to_another_organization(tree):
    m = _member(tree)
    other = Organization.create(code="O-A1b", name="另一支部", kind="branch", community=tree["comm"]["A1"])
    with pytest.raises(records.RecordInvalid) as e:
        records.update(Member, m.id, {"organization": other.id}, m.version)
    assert "transfers" in str(e.value)
    assert _member(tree).organization_id == tree["org"]["A1"].id  # nothing written
    with pytest.raises(records.RecordInvalid) as e:
        records.update(Member, m.id, {"management_class": "floating_out"}, m.version)
    assert "class_changes" in str(e.value)
    # other fields still edit
    records.update(Member, m.id, {"name": "改名"}, m.version)
    assert _member(tree).name == "改名"


def test_placing_an_unplaced_floating_in_member_is_allowed_with_its_date(tree):
    c = tree["comm"]["A1"]
    m = records.create(Member, {"id_number": "11010519491231002X", "name": "流入", "joined_date": D(2000, 1, 1),
                                "management_class": "floating_in", "community": c.id,
                                "registered_date": D(2026, 3, 1)})
    with pytest.raises(records.RecordInvalid):
        records.update(Member, m.id, {"organization": tree["org"]["A1"].id}, m.version)
    m = records.update(Member, m.id, {"organization": tree["org"]["A1"].id, "placed_date": D(2026, 4, 1)}, m.version)
    assert m.organization_id == tree["org"]["A1"].id
    spans = roster.spans([m.id], D(2026, 1, 1), D(2026, 12, 31))[m.id]
    assert [(s[0], s[2]) for s in spans] == [(D(2000, 1, 1), None), (D(2026, 4, 1), tree["org"]["A1"].id)]


def test_a_class_change_from_a_form_chains_and_sets_the_class(tree):
    m = _member(tree)
    assert m.management_class == "resident"
    c1 = records.create(ClassChange, {"member": m.id, "new_class": "floating_out", "date": D(2026, 7, 1)})
    assert _member(tree).management_class == "floating_out"
    assert ClassChange.get_by_id(c1.id).old_class == "resident"
    # an earlier one slots in before: the chain follows
    records.create(ClassChange, {"member": m.id, "new_class": "in_service", "date": D(2026, 3, 1)})
    chain = [(c.date, c.old_class, c.new_class) for c in ClassChange.select().order_by(ClassChange.date)]
    assert chain == [(D(2026, 3, 1), "resident", "in_service"), (D(2026, 7, 1), "in_service", "floating_out")]
    assert roster.state_on(roster.spans([m.id], D(2026, 1, 1), D(2026, 12, 31))[m.id], D(2026, 5, 1))[2] == "in_service"
    # deleting the latest gives the member the class before it
    latest = ClassChange.get_by_id(c1.id)
    records.delete(ClassChange, latest.id, latest.version)
    assert _member(tree).management_class == "in_service"
    assert RosterPeriod.select().where(RosterPeriod.member == m.id, RosterPeriod.end.is_null()).get().management_class \
        == "in_service"


def test_a_meeting_must_fit_its_organization(tree):
    from core.models import Meeting

    group = Organization.create(code="G-A1", name="第一党小组", kind="group", parent=tree["org"]["A1"],
                                community=tree["comm"]["A1"])
    with pytest.raises(records.RecordInvalid) as e:
        records.create(Meeting, {"code": "M1", "organization": group.id, "type": "assembly", "date": D(2026, 3, 1)})
    assert "党小组" in str(e.value)
    assert not Meeting.select().exists()
    records.create(Meeting, {"code": "M2", "organization": group.id, "type": "group_meeting", "date": D(2026, 3, 1)})
    with pytest.raises(records.RecordInvalid):
        records.create(Meeting, {"code": "M3", "organization": tree["org"]["A1"].id, "type": "group_meeting",
                                 "date": D(2026, 3, 1)})


def test_a_transfer_from_a_form_moves_the_member_as_an_import_does(tree):
    from core.models import Transfer

    m = _member(tree)
    b = Organization.create(code="O-A1b", name="另一支部", kind="branch", community=tree["comm"]["A2"])
    records.create(Transfer, {"member": m.id, "direction": "intra_city", "from_org": "O-A1", "to_org": "O-A1b",
                              "date": D(2026, 7, 1)})
    moved = _member(tree)
    assert (moved.organization_id, moved.community_id) == (b.id, tree["comm"]["A2"].id)
    spans = roster.spans([m.id], D(2026, 1, 1), D(2026, 12, 31))[m.id]
    assert [(s[0], s[2]) for s in spans] == [(D(2000, 1, 1), tree["org"]["A1"].id), (D(2026, 7, 1), b.id)]
    # 转出: off the roster from its date
    records.create(Transfer, {"member": m.id, "direction": "out", "from_org": "O-A1b", "to_org": "外市某支部",
                              "date": D(2026, 9, 1)})
    gone = _member(tree)
    assert (gone.active, gone.left_date) == (False, D(2026, 9, 1))


def test_a_transfer_from_a_form_needs_the_organizations_in_the_writers_scope(tree):
    from core.access import Principal, set_current
    from core.models import Transfer

    m = _member(tree)
    set_current(Principal("clerk_a1", "community", "A1", False, True))
    with pytest.raises(records.RecordInvalid) as e:
        records.create(Transfer, {"member": m.id, "direction": "intra_city", "from_org": "O-A1", "to_org": "O-B1",
                                  "date": D(2026, 7, 1)})
    unknown = str(e.value)
    with pytest.raises(records.RecordInvalid) as e:
        records.create(Transfer, {"member": m.id, "direction": "intra_city", "from_org": "O-A1", "to_org": "O-XX",
                                  "date": D(2026, 7, 1)})
    # another town's organization reads exactly like one that does not exist, with the same hint
    assert unknown.replace("O-B1", "?") == str(e.value).replace("O-XX", "?")
    assert "市内转移" in unknown
    assert not Transfer.select().exists() and _member(tree).organization_id == tree["org"]["A1"].id
