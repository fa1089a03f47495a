"""What a finding names, for people to read: its evidence as labelled lines and display names.

A finding (:class:`core.api.Finding`) keeps its machine form — the subject an ID number or a
code, the evidence a dict — and that is what CSV, XLSX and JSON carry.  Screens and printable
outputs show them through this module:

- :func:`evidence_lines` — the evidence dict as lines ``标签：值`` in the interface language
  (months, counts, stage dates, lists of members by name); record numbers that mean nothing to
  a reader are left out, a key without a label shows as ``key: value``;
- :class:`Names` — display names within a user's :class:`core.view.View`: a community code as
  ``嘉坊社区（320583100001）``, a member's or worker's ID number as ``姓名 320583********536*``
  (masked unless the user has full personal data), an organization's code with its name, and
  record ids in evidence (``member_id``, ``ungraded_member_ids`` …) as names.  Records outside
  the view keep their code or masked number.  Names are read in batches and kept.
"""
from __future__ import annotations

from core import enums
from core.i18n import get_lang

# key -> (zh, en)
LABELS: dict[str, tuple[str, str]] = {
    "absent_months": ("无故缺席的月份", "months absent without leave"),
    "age": ("年龄", "age"),
    "age_range": ("年龄区间", "age range"),
    "allocated": ("已划拨", "allocated"),
    "approval_no": ("批准文号", "approval number"),
    "as_of": ("截止日期", "as of"),
    "assembly_missed": ("未开党员大会的季度", "quarters without a general assembly"),
    "base_pay": ("基本报酬", "base pay"),
    "branch": ("党支部", "branch"),
    "branch_max": ("党支部正式党员上限", "most formal members of a branch"),
    "branch_min": ("党支部正式党员下限", "fewest formal members of a branch"),
    "by_source": ("按来源", "by source"),
    "certificate": ("社工证书", "certificate"),
    "certificate_date": ("取证日期", "certificate date"),
    "city_share": ("市级承担", "city's share"),
    "committee": ("党委", "committee"),
    "committee_meeting": ("支委会", "committee meetings"),
    "committee_meeting_min_members": ("须开支委会的党员人数", "members from which committee meetings are due"),
    "committee_meeting_missed": ("未开支委会的月份", "months without a committee meeting"),
    "committee_meeting_months": ("开过支委会的月份", "months with a committee meeting"),
    "committee_meeting_required": ("须开支委会", "committee meetings required"),
    "committee_min_exclusive": ("党委须超过的正式党员数", "formal members a committee must exceed"),
    "count": ("人数", "count"),
    "date": ("日期", "date"),
    "days": ("天数", "days"),
    "days_open": ("已过天数", "days open"),
    "deadline": ("期限", "deadline"),
    "demands": ("诉求数", "demands"),
    "direct_members": ("直属党员", "direct members"),
    "due": ("应完成日期", "due"),
    "education": ("学历", "education"),
    "excellent": ("评为优秀", "rated excellent"),
    "excellent_share": ("优秀比例", "share rated excellent"),
    "fail_months": ("连续未交几个月为不符合", "months unpaid in a row that fail"),
    "filing_date": ("备案日期", "filing date"),
    "first_date": ("第一个环节日期", "first stage on"),
    "floor": ("保障标准", "floor"),
    "formal_members": ("正式党员", "formal members"),
    "from": ("起", "from"),
    "from_year": ("起始年度", "from year"),
    "gap": ("缺口", "gap"),
    "general_branch": ("党总支", "general branch"),
    "general_branch_min_exclusive": ("党总支须超过的正式党员数", "formal members a general branch must exceed"),
    "graded": ("已评定等次", "graded"),
    "group_meeting": ("党小组会", "group meetings"),
    "group_meeting_missed": ("未开党小组会的月份（按党小组）", "months without a group meeting (by group)"),
    "groups": ("党小组数", "Party groups"),
    "held": ("已开会议", "meetings held"),
    "in_range": ("在区间内", "within the range"),
    "kind": ("组织类别", "organization kind"),
    "late": ("逾期", "late"),
    "late_count": ("逾期交纳的月数", "months paid late"),
    "late_months": ("逾期交纳的月份", "months paid late"),
    "lecture": ("党课", "lectures"),
    "lecture_missed": ("未上党课的期间", "periods without a lecture"),
    "lecture_period": ("党课周期", "lecture period"),
    "longest_run": ("最长连续缺席月数", "longest run of absences (months)"),
    "longest_unpaid_run": ("最长连续未交月数", "longest run unpaid (months)"),
    "management_class": ("党员类别", "member class"),
    "max_age": ("年龄上限", "age limit"),
    "max_days": ("期限天数", "days allowed"),
    "max_excellent_share": ("优秀比例上限", "most share rated excellent"),
    "mean_age": ("平均年龄", "mean age"),
    "meetings": ("会议次数", "meetings"),
    "member_id": ("党员", "member"),
    "members": ("党员", "members"),
    "min_city_trainings": ("市级及以上培训至少", "fewest city-level trainings"),
    "min_count": ("至少次数", "fewest times"),
    "min_days": ("至少天数", "fewest days"),
    "min_education": ("最低学历", "lowest education"),
    "min_share": ("最低比例", "lowest share"),
    "min_trainings": ("至少培训次数", "fewest trainings"),
    "minimum": ("最低标准", "minimum"),
    "missing": ("缺少的环节", "stages missing"),
    "months_ended": ("已结束的月数", "months ended"),
    "months_required": ("应交月数", "months due"),
    "months_with_meetings": ("有会议的月数", "months with meetings"),
    "multiple": ("倍数", "multiple"),
    "on_time": ("按时", "on time"),
    "one_shoulder": ("书记主任一肩挑", "secretary also director"),
    "organization_id": ("党组织", "organization"),
    "out_of_order": ("顺序颠倒的环节", "stages out of order"),
    "per_member": ("每名党员标准", "per member"),
    "per_quarter": ("每季度至少", "per quarter"),
    "placed_date": ("编入日期", "placed on"),
    "posts": ("职务", "posts"),
    "previous_as_of": ("上期截止日期", "previous as of"),
    "previous_secretaries": ("上期书记人数", "previous secretaries"),
    "previous_with_certificate": ("上期持证人数", "previously with a certificate"),
    "previous_with_education": ("上期学历达标人数", "previously with the education"),
    "publications": ("公开次数", "publications"),
    "published": ("公开日期", "published"),
    "quarters_ended": ("已结束的季度", "quarters ended"),
    "quarters_missed": ("未公开的季度", "quarters missed"),
    "records": ("记录数", "records"),
    "refused_exempt": ("拒绝免办", "refused as exempt"),
    "registered_date": ("报到日期", "registered on"),
    "reports": ("述职", "reports"),
    "required": ("应有", "required"),
    "required_days": ("应达天数", "days required"),
    "required_more_than": ("须超过", "required more than"),
    "required_trainings": ("应参加培训次数", "trainings required"),
    "run_months": ("连续未交的月份", "months unpaid in a row"),
    "secretaries": ("书记人数", "secretaries"),
    "secretary_ids": ("书记", "secretaries"),
    "director_ids": ("主任", "directors"),
    "share": ("比例", "share"),
    "split_by": ("分担方式", "split by"),
    "stages": ("各环节", "stages"),
    "still_open": ("未办结", "still open"),
    "still_open_count": ("未办结数", "still open"),
    "target_education": ("目标学历", "target education"),
    "to": ("止", "to"),
    "town_share": ("区镇承担", "town's share"),
    "trainings": ("培训次数", "trainings"),
    "unfinished_days": ("未完成天数", "days unfinished"),
    "ungraded": ("未评定等次", "not graded"),
    "ungraded_member_ids": ("未评定等次的党员", "members not graded"),
    "unpaid_before_year": ("上年末起连续未交的月数", "months unpaid in a row before the year"),
    "unpaid_count": ("欠交的月数", "months unpaid"),
    "unpaid_months": ("欠交的月份", "months unpaid"),
    "visits": ("走访次数", "visits"),
    "wage": ("城镇非私营单位在岗职工平均工资", "urban average wage"),
    "wage_year": ("工资年度", "wage year"),
    "weeks_ended": ("已结束的周数", "weeks ended"),
    "weeks_held": ("已接待的周数", "weeks held"),
    "weeks_missed": ("未接待的周", "weeks missed"),
    "weeks_not_by_secretary": ("非书记接待的周", "weeks not received by the secretary"),
    "weeks_not_by_secretary_count": ("非书记接待的周数", "weeks not received by the secretary"),
    "with_certificate": ("持证人数", "with a certificate"),
    "with_education": ("学历达标人数", "with the education"),
    "worker_id": ("社区工作者", "worker"),
    "worker_ids": ("社区工作者", "workers"),
    "workers": ("社区工作者人数", "workers"),
    "workers_in_post": ("在岗社区工作者", "workers in post"),
    "year": ("年度", "year"),
}

#: amounts of money (元), shown as 15,000.00 (core.numbers); ``by_source`` holds one per source
MONEY_KEYS = frozenset({"allocated", "base_pay", "by_source", "city_share", "floor", "gap", "minimum", "per_member",
                        "town_share", "wage"})
#: years: whole numbers that are no counts (shown 2026, never 2,026)
YEAR_KEYS = frozenset({"from_year", "wage_year", "year"})

#: record ids of the members / workers / organizations a key names (shown by name)
MEMBER_KEYS = frozenset({"member_id", "member_ids", "ungraded_member_ids"})
WORKER_KEYS = frozenset({"worker_id", "worker_ids", "director_ids", "secretary_ids"})
ORG_KEYS = frozenset({"organization_id"})

#: record numbers that mean nothing to a reader (kept in the machine form only)
HIDDEN = frozenset({"decision_id", "pay_id", "wage_id", "meeting_ids", "payment_ids", "publication_ids",
                    "visit_ids", "training_ids", "allocation_ids", "id"})

#: a person's age and the age limit it was held against: beside a masked ID number they narrow the birth
#: date, so they show only to users with full personal data (the message says what the rule decided)
AGE_KEYS = frozenset({"age", "max_age"})

_STAGE_KEYS = frozenset({"missing", "out_of_order", "stages"})

#: at most this many items of a list are shown, then "等 N 项"
MAX_ITEMS = 12


def _choices() -> dict:
    return {"kind": enums.ORG_KIND, "certificate": enums.CERTIFICATE, "education": enums.EDUCATION,
            "target_education": enums.EDUCATION, "min_education": enums.EDUCATION,
            "management_class": enums.MEMBER_CLASS, "posts": enums.POST, "held": enums.MEETING_TYPE,
            "by_source": enums.FUNDING_SOURCE, "reports": enums.REPORT_AUDIENCE}


def label_of(key: str, lang: str | None = None) -> str:
    """The label of an evidence key (the key itself when there is none)."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[1] if (lang or get_lang()) == "en" else pair[0]


def evidence_lines(evidence, names: "Names | None" = None, lang: str | None = None,
                   max_items: int = MAX_ITEMS) -> list[str]:
    """A finding's evidence as lines ``标签：值`` (``label: value`` in English), in the order of
    the dict.  ``names`` (a :class:`Names`) turns the member / worker / organization ids into
    names; without it those keys are left out, like the record numbers of :data:`HIDDEN`, and so
    are the ages of :data:`AGE_KEYS` unless the view has full personal data.  A key without a label shows as ``key: value``; lists longer than ``max_items`` are cut
    with a count.  Not a dict (None, text): one line of its text, or nothing."""
    lang = lang or get_lang()
    if evidence is None or evidence == {}:
        return []
    if not isinstance(evidence, dict):
        return [str(evidence)]
    sep = "：" if lang == "zh" else ": "
    choices = _choices()
    out = []
    full = names is not None and names.view.full_personal_data
    for key, value in evidence.items():
        if key in HIDDEN or (key in AGE_KEYS and not full):
            continue
        if key in MEMBER_KEYS or key in WORKER_KEYS or key in ORG_KEYS:
            if names is None:
                continue
            ids_ = value if isinstance(value, (list, tuple)) else [value]
            which = "member" if key in MEMBER_KEYS else "worker" if key in WORKER_KEYS else "organization"
            value = names.by_ids(which, [i for i in ids_ if i is not None])
            if not isinstance(evidence[key], (list, tuple)):
                value = value[0] if value else None
        text = format_value(key, value, lang, choices, max_items)
        if key in LABELS:
            out.append(f"{label_of(key, lang)}{sep}{text}")
        else:
            out.append(f"{key}: {text}")
    return out


def format_value(key: str, value, lang: str | None = None, choices: dict | None = None,
                 max_items: int = MAX_ITEMS) -> str:
    """One evidence value as text: choice codes as labels, stages by name, lists joined and
    cut, dicts as ``名称 值`` pairs, booleans 是/否, nothing as 无; amounts (:data:`MONEY_KEYS`)
    as ``15,000.00`` and whole numbers but years as counts, ``1,234`` (:mod:`core.numbers`)."""
    from core.numbers import format_count, format_money
    lang = lang or get_lang()
    zh = lang == "zh"
    choices = _choices() if choices is None else choices
    choice = choices.get(key)

    def one(v, k=key):
        if v is None:
            return "—"
        if isinstance(v, bool):
            return ("是" if v else "否") if zh else ("yes" if v else "no")
        if k in MONEY_KEYS and not isinstance(v, (dict, list, tuple)):
            try:
                return format_money(v)
            except (ArithmeticError, ValueError, TypeError):  # not a number (a source's code): below
                pass
        if isinstance(v, int) and k not in YEAR_KEYS:
            return format_count(v)
        if k in _STAGE_KEYS and isinstance(v, str) and v in enums.FOUR_TWO_STAGE:  # a 4+2 decision's stage
            return enums.FOUR_TWO_STAGE.label(v, "zh" if zh else "en")
        if choice is not None and isinstance(v, str):
            return choice.label(v, lang)
        if isinstance(v, dict):
            return format_value("", v, lang, {}, max_items)
        if isinstance(v, (list, tuple)):
            return format_value("", v, lang, {}, max_items)
        return str(v)

    if isinstance(value, dict):
        if not value:
            return "无" if zh else "none"
        parts = []
        for k, v in value.items():
            name = one(k, key) if (key in _STAGE_KEYS or choice is not None) else str(k)
            parts.append(f"{name} {one(v, key if key in MONEY_KEYS else '')}")
        return ("；" if zh else "; ").join(parts)
    if isinstance(value, (list, tuple)):
        if key == "age_range" and len(value) == 2:
            return f"{value[0]}–{value[1]}"
        if not value:
            return "无" if zh else "none"
        items = [one(v) for v in value[:max_items]]
        text = ("、" if zh else ", ").join(items)
        if len(value) > max_items:
            text += (f" 等，共 {len(value)} 项" if zh else f" … ({len(value)} in all)")
        return text
    return one(value)


class Names:
    """Display names within ``view`` (default: the current user's); see the module doc.

    ``community(code)``, ``person(id_number)`` (member or worker), ``organization(code)``,
    ``by_ids(table, ids)``, and ``subject(finding)`` for a finding's full (unmasked) subject.
    """

    def __init__(self, view=None):
        if view is None:
            from core.view import View

            view = View.of()
        self.view = view
        self._communities: dict | None = None
        self._people: dict = {}
        self._orgs: dict = {}
        self._by_id: dict = {}

    # ------------------------------------------------------------ communities

    def community(self, code) -> str:
        """``嘉坊社区（320583100001）`` (``嘉坊社区 (320583100001)`` in English); the code alone
        when the community is unknown or outside the view."""
        if not code:
            return ""
        if self._communities is None:
            self._communities = {c.code: c.name for c in self.view.communities()}
        name = self._communities.get(code)
        if not name:
            return str(code)
        return f"{name}（{code}）" if get_lang() == "zh" else f"{name} ({code})"

    def community_heading(self, town, code) -> str:
        """``玉山镇 嘉坊社区（320583100001）``: a heading of findings grouped by community."""
        return f"{town or ''} {self.community(code)}".strip()

    # ------------------------------------------------------------ people and organizations

    def person(self, id_number) -> str:
        """A member's or worker's ID number as ``姓名 320583********536*`` (the number as this
        view may see it); the masked number alone when no one in the view has it."""
        if not id_number:
            return ""
        if id_number not in self._people:
            self.prime_people([id_number])
        name = self._people.get(id_number)
        shown = self.view.mask_id(id_number)
        return f"{name} {shown}" if name else shown

    def prime_people(self, numbers) -> None:
        """Read the names of these ID numbers (members, then workers) in batches."""
        from core.models import Member, Worker

        todo = [n for n in dict.fromkeys(numbers) if n and n not in self._people]
        for model in (Member, Worker):
            for i in range(0, len(todo), 500):
                chunk = todo[i:i + 500]
                q = self.view.select(model, model.id_number, model.name).where(model.id_number.in_(chunk))
                for number, name in q.tuples():
                    self._people.setdefault(number, name)
            todo = [n for n in todo if n not in self._people]
        for n in todo:
            self._people[n] = None

    def organization(self, code) -> str:
        """``嘉坊社区第一党支部（320583100001001）``; the code alone when unknown here."""
        if not code:
            return ""
        if code not in self._orgs:
            from core.models import Organization

            row = self.view.select(Organization, Organization.name).where(Organization.code == code).first()
            self._orgs[code] = row.name if row else None
        name = self._orgs[code]
        if not name:
            return str(code)
        return f"{name}（{code}）" if get_lang() == "zh" else f"{name} ({code})"

    def by_ids(self, table: str, ids_) -> list[str]:
        """Records of ``table`` (``member``, ``worker``, ``organization``) by row id, as names
        (people with their masked number); an id outside the view as ``#id``."""
        from core.models import Member, Organization, Worker

        model = {"member": Member, "worker": Worker, "organization": Organization}[table]
        cache = self._by_id.setdefault(table, {})
        todo = [i for i in dict.fromkeys(ids_) if i not in cache]
        for k in range(0, len(todo), 500):
            chunk = todo[k:k + 500]
            if table == "organization":
                q = self.view.select(model, model.id, model.code, model.name).where(model.id.in_(chunk))
                for pk, code, name in q.tuples():
                    cache[pk] = f"{name}（{code}）" if get_lang() == "zh" else f"{name} ({code})"
            else:
                q = self.view.select(model, model.id, model.id_number, model.name).where(model.id.in_(chunk))
                for pk, number, name in q.tuples():
                    self._people.setdefault(number, name)
                    cache[pk] = f"{name} {self.view.mask_id(number)}"
        return [cache.get(i) or f"#{i}" for i in ids_]

    # ------------------------------------------------------------ findings

    def subject(self, finding) -> str:
        """A finding's subject for people: a person's name and masked number, a community's or
        organization's name and code; anything else (a decision's code, a town) as it is,
        masked.  ``finding`` carries its full subject (before :func:`core.findings.shown`)."""
        table = self.view.subject_table(finding.rule)
        subj = finding.subject
        if table in ("member", "worker"):
            return self.person(subj)
        if table == "community":
            return self.community(subj)
        if table == "organization":
            return self.organization(subj)
        return self.view.mask_text(subj)

    def prime(self, findings) -> None:
        """Read the names of every person the findings name as subject, in a few queries."""
        numbers = [f.subject for f in findings if self.view.subject_table(f.rule) in ("member", "worker")]
        self.prime_people(numbers)
