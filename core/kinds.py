"""Record kinds (记录类别): one declaration per kind, read by everything that handles records.

A :class:`Kind` says, once, everything about one kind of record: its model,
its titles, its fields (type, import header, English alias, value set,
required or optional column, natural key, personal data, several lines), the
path from a record to its community, who may write it, and how other kinds
refer to it.  Validation (:mod:`core.validators`), the record forms, import,
export, templates, the kind lists of ``dangjian import/export/template
--help`` and the records screen all read these declarations; there is no
other list of kinds.

The built-in kinds are declared below (:data:`BUILTIN`).  A plugin that
keeps its own table declares its kind through the
``dangjian_register_kinds(register)`` hook::

    @hookimpl
    def dangjian_register_kinds(register):
        register(Kind("hall_bookings", HallBooking, "活动室预约", "Hall bookings", [
            Field("community", "社区编码", "community code", "ref:community", required=True, key=True),
            Field("date", "日期", "date", "date", required=True, key=True),
            Field("note", "说明", "note", max_length=256, multiline=True),
        ], community=("community",)))

and gets a form, ``dangjian import/export/template hall_bookings`` and a
place in the records screen without touching any other module.

Look-ups: :func:`get` (a kind by name; a :class:`core.errors.UserError`
naming the kinds when unknown), :func:`all_kinds`, :func:`names`,
:func:`of_model`, :func:`ref_kind` (the kind a ``ref:``/``idref:`` field
points at).
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field, replace

from core import enums
from core import models as m
from core.i18n import get_lang, tr

# ---------------------------------------------------------------- fields

FIELD_TYPES = ("text", "date", "month", "bool", "money", "int", "year", "days", "id", "choice", "posts")


@dataclass
class Field:
    """One field of a kind: a form input, an import/export column.

    ``type`` is one of :data:`FIELD_TYPES` or a reference: ``ref:<target>``
    (by code or name) or ``idref:<target>`` (by ID number), where the target
    is a kind's ``ref`` name (``community``, ``org``, ``meeting``, ``member``,
    ``worker``, ``unit`` …).
    """
    name: str  # the model's English field name
    label: str  # Chinese label = the import header
    en: str  # English label (accepted as a header alias too)
    type: str = "text"
    required: bool = False
    optional_column: bool = False  # may be left out of a file (the brackets of the import formats)
    key: bool = False  # part of the natural key
    choice: enums.Choice | None = None
    max_length: int | None = None
    not_future: bool = True  # dates: not after today
    help: str = ""  # Chinese explanation for the template's second sheet
    personal: bool | None = None  # personal data (masked for users who may not see it); None: ID numbers
    multiline: bool = False  # may hold several lines

    def __post_init__(self):
        if self.personal is None:
            self.personal = self.type == "id" or self.type.startswith("idref:")

    @property
    def is_ref(self) -> bool:
        return self.type.startswith(("ref:", "idref:"))

    @property
    def target(self) -> str | None:
        """The ``ref`` name of the kind a reference field points at (None for other fields)."""
        return self.type.split(":", 1)[1] if self.is_ref else None

    def title(self) -> str:
        """The label in the interface language."""
        return self.en if get_lang() == "en" else self.label


F = Field

# ---------------------------------------------------------------- kinds


@dataclass
class Kind:
    """One record kind.

    ``key``: the natural key (a re-import with the same key updates); given
    here or as ``key=True`` on the fields.  ``community``: the fields that lead
    from a record to its community, first non-empty one wins (``()``: the
    record belongs to no community).  ``writers``: ``"write"`` (any user with
    write access, inside the user's scope) or ``"admin"``.  ``ref``: how
    other kinds' reference fields name this one — ``(target, attribute, zh,
    en)``, e.g. ``("org", "code", "组织编码", "org code")``.  ``importer``:
    ``"module:Class"`` of an import handler with steps of its own (the generic
    one otherwise).  ``importable``: offered by import/export/template.  ``order``: the
    fields an export is sorted by (default: the order records were made in).
    """
    name: str
    model: type
    title_zh: str
    title_en: str
    fields: list[Field]
    key: tuple = ()
    community: tuple = ()
    writers: str = "write"
    ref: tuple | None = None
    importer: str = ""
    importable: bool = True
    order: tuple = ()  # export order (model fields); () the order records were made in
    plugin: str = ""  # the plugin that declared it ('' built in)
    _by_name: dict = dc_field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        if self.key:
            self.fields = [replace(f, key=f.name in self.key) for f in self.fields]
        self.key = tuple(f.name for f in self.fields if f.key)
        self.community = tuple(self.community)
        self._by_name = {f.name: f for f in self.fields}
        if self.writers not in ("write", "admin"):
            raise ValueError(f"kind {self.name}: writers must be 'write' or 'admin'")

    def title(self) -> str:
        return tr(self.title_zh, self.title_en)

    def check(self) -> None:
        """Refuse a plugin's declaration that cannot work (a ValueError saying why): a
        built-in kind's name, an unknown field type, a field the model does not have,
        a value set missing, no natural key."""
        if self.name in BUILTIN:
            raise ValueError(f"kind {self.name} is built in")
        model_fields = self.model._meta.fields
        for f in self.fields:
            if not (f.type in FIELD_TYPES or f.is_ref):
                raise ValueError(f"kind {self.name}, field {f.name}: unknown type {f.type}")
            if f.name not in model_fields:
                raise ValueError(f"kind {self.name}: {f.name} is not a field of {self.model.__name__}")
            if f.type == "choice" and f.choice is None:
                raise ValueError(f"kind {self.name}, field {f.name}: a choice needs its value set")
        for name in self.community:
            if name not in model_fields:
                raise ValueError(f"kind {self.name}: community path {name} is not a field of {self.model.__name__}")
        if not self.key:
            raise ValueError(f"kind {self.name}: no natural key")

    def field(self, name: str) -> Field | None:
        return self._by_name.get(name)

    @property
    def headers(self) -> list[str]:
        return [f.label for f in self.fields]

    @property
    def personal(self) -> tuple:
        """Names of the fields that hold personal data (ID numbers, phones)."""
        return tuple(f.name for f in self.fields if f.personal)

    @property
    def multiline(self) -> tuple:
        return tuple(f.name for f in self.fields if f.multiline)

    @property
    def admin_only(self) -> bool:
        return self.writers == "admin"


def _key(*names):
    return tuple(names)


E = enums
_COMMUNITY = F("community", "社区编码", "community code", "ref:community", required=True)
_MEMBER = F("member", "公民身份号码", "ID number", "idref:member", required=True)


BUILTIN_LIST: list[Kind] = [
    Kind("members", m.Member, "党员", "Members", [
        F("name", "姓名", "name", required=True, max_length=64),
        F("id_number", "公民身份号码", "ID number", "id", required=True, key=True, help="18位，校验位须正确"),
        F("joined_date", "入党日期", "joined date", "date", required=True),
        F("status", "党员状态", "member status", "choice", required=True, choice=E.MEMBER_STATUS),
        F("organization", "所在党组织编码", "org code", "ref:org",
          help="组织编码；未编入的流入党员留空并填社区编码"),
        F("management_class", "党员类别", "member class", "choice", required=True, choice=E.MEMBER_CLASS),
        F("retired", "离退休", "retired", "bool", help="是/否"),
        F("mobility_impaired", "行动不便", "mobility impaired", "bool", help="是/否"),
        F("registered_date", "报到日期", "registered date", "date", help="流入党员、在职党员报到日期"),
        F("placed_date", "编入日期", "placed date", "date", help="流入党员编入党组织的日期"),
        F("certificate_no", "流动党员活动证号", "certificate no", max_length=64, help="流出党员的流动党员活动证号"),
        F("contact_person", "联系人", "contact person", max_length=64, help="流出党员的联系人"),
        F("sex", "性别", "sex", "choice", optional_column=True, choice=E.SEX, help="可空：由身份号码得出；填写的须与身份号码一致"),
        F("birth_date", "出生日期", "birth date", "date", optional_column=True, help="可空：由身份号码得出；填写的须与身份号码一致"),
        F("community", "社区编码", "community code", "ref:community", optional_column=True,
          help="可空：取所在党组织的社区；未编入的流入党员必填"),
        F("full_date", "转正日期", "full date", "date", optional_column=True,
          help="正式党员留空时按入党日期加一年；预备党员留空"),
        F("education", "学历", "education", "choice", optional_column=True, choice=E.EDUCATION),
        F("phone", "联系电话", "phone", optional_column=True, max_length=32, personal=True),
        F("work_unit", "工作单位", "work unit", optional_column=True, max_length=128),
        F("dues_class", "党费类别", "dues class", "choice", optional_column=True, choice=E.DUES_CLASS),
        F("monthly_income", "月收入", "monthly income", "money", optional_column=True, help="元，最多两位小数"),
    ], community=("community", "organization"), ref=("member", "id_number", "党员身份号码", "member ID number"),
        importer="core.importing.engine:Members"),
    Kind("orgs", m.Organization, "党组织", "Party organizations", [
        F("code", "组织编码", "org code", required=True, key=True, max_length=32, help="党组织的唯一编码"),
        F("name", "组织名称", "org name", required=True, max_length=128),
        F("kind", "组织类别", "org kind", "choice", required=True, choice=E.ORG_KIND),
        F("parent", "上级组织编码", "parent org code", "ref:org", help="上级党组织的组织编码，可空；上级可以在同一文件中靠后的行"),
        F("community", "社区编码", "community code", "ref:community", help="所在社区的社区编码；非社区党组织可空"),
        F("approval_no", "批准文号", "approval no", max_length=64, help="党委须有批准文号"),
    ], community=("community",), writers="admin", ref=("org", "code", "组织编码", "org code"), order=("code",),
        importer="core.importing.engine:Orgs"),
    Kind("transfers", m.Transfer, "组织关系转接", "Transfers", [
        replace(_MEMBER, key=True),
        F("direction", "转接类型", "direction", "choice", required=True, choice=E.TRANSFER_DIRECTION),
        F("from_org", "原组织", "from org", max_length=128, help="市内为组织编码，市外为组织名称"),
        F("to_org", "新组织", "to org", max_length=128, help="市内为组织编码，市外为组织名称"),
        F("date", "日期", "date", "date", required=True, key=True),
        F("letter_no", "介绍信编号", "letter no", max_length=64),
    ], community=("member",), importer="core.importing.engine:Transfers"),
    Kind("class_changes", m.ClassChange, "党员类别变更", "Class changes", [
        replace(_MEMBER, key=True),
        F("new_class", "新类别", "new class", "choice", required=True, choice=E.MEMBER_CLASS,
          help="此日期起的党员类别（社区党员/在职党员/流入党员/流出党员）"),
        F("date", "日期", "date", "date", required=True, key=True, help="类别变更生效的日期"),
        F("note", "说明", "note", optional_column=True, max_length=256, multiline=True),
    ], community=("member",), order=("member", "date"), importer="core.importing.engine:ClassChanges"),
    Kind("certificates", m.FloatingCertificate, "流动党员活动证", "Floating certificates", [
        F("number", "活动证号", "certificate no", required=True, key=True, max_length=64),
        _MEMBER,
        F("issued_by", "发证机关", "issued by", max_length=128),
        F("issue_date", "发证日期", "issue date", "date"),
        F("destination", "外出地点", "destination", max_length=128),
        F("valid_until", "有效期至", "valid until", "date", not_future=False),
        F("returned_date", "交回日期", "returned date", "date", optional_column=True),
    ], community=("member",), importer="core.importing.engine:Certificates"),
    Kind("evaluations", m.Evaluation, "民主评议", "Evaluations", [
        replace(_MEMBER, key=True),
        F("year", "年度", "year", "year", required=True, key=True),
        F("result", "评议结果", "result", "choice", required=True, choice=E.EVALUATION),
    ], community=("member",)),
    Kind("attendance", m.Attendance, "出勤", "Attendance", [
        F("meeting", "会议编号", "meeting code", "ref:meeting", required=True, key=True),
        replace(_MEMBER, key=True),
        F("status", "出勤", "attendance", "choice", required=True, choice=E.ATTENDANCE),
        F("leave_reason", "请假事由", "leave reason", max_length=256, help="请假必填"),
    ], community=("meeting", "member")),
    Kind("posts", m.WorkerPost, "职务", "Worker posts", [
        F("worker", "公民身份号码", "ID number", "idref:worker", required=True, key=True),
        F("post", "职务", "post", "choice", required=True, key=True, choice=E.POST),
        F("start_date", "开始日期", "start date", "date", required=True, key=True),
        F("end_date", "结束日期", "end date", "date"),
    ], community=("worker",), importable=False),  # imported through workers (职务, 任职日期)
    Kind("pay", m.WorkerPay, "年基本报酬", "Base pay", [
        F("worker", "公民身份号码", "ID number", "idref:worker", required=True, key=True, help="社区工作者的身份号码"),
        F("year", "报酬年度", "year", "year", required=True, key=True),
        F("base_pay", "年基本报酬", "base pay", "money", required=True, help="元/年"),
    ], community=("worker",)),
    Kind("reports_given", m.DutyReport, "述职", "Reports given", [
        F("worker", "公民身份号码", "ID number", "idref:worker", required=True, key=True),
        F("year", "年度", "year", "year", required=True, key=True),
        F("audience", "述职对象", "audience", "choice", required=True, key=True, choice=E.REPORT_AUDIENCE),
        F("date", "日期", "date", "date", required=True),
    ], community=("worker",)),
    Kind("trainings", m.Training, "培训", "Trainings", [
        F("worker", "公民身份号码", "ID number", "idref:worker", required=True, key=True, help="社区工作者的身份号码"),
        F("title", "培训名称", "title", required=True, key=True, max_length=128),
        F("level", "培训级别", "level", "choice", required=True, choice=E.TRAINING_LEVEL),
        F("start_date", "开始日期", "start date", "date", required=True, key=True),
        F("days", "天数", "days", "days", required=True, help="大于0，最多一位小数"),
    ], community=("worker",)),
    Kind("publications", m.Publication, "公开", "Publications", [
        replace(_COMMUNITY, key=True),
        F("year", "年度", "year", "year", required=True, key=True),
        F("kind", "公开类型", "publication kind", "choice", required=True, key=True, choice=E.PUBLICATION_KIND),
        F("date", "日期", "date", "date", required=True, key=True),
    ], community=("community",)),
    Kind("expenditures", m.Expenditure, "经费支出", "Expenditures", [
        replace(_COMMUNITY, key=True),
        F("date", "日期", "date", "date", required=True, key=True),
        F("amount", "金额", "amount", "money", required=True, help="元"),
        F("purpose", "用途", "purpose", required=True, key=True, max_length=256, multiline=True),
    ], community=("community",)),
    Kind("services", m.ServiceRecord, "服务记录", "Service records", [
        _COMMUNITY,
        F("target_group", "服务对象", "target group", "choice", required=True, choice=E.SERVICE_TARGET),
        F("free", "无偿", "free", "bool"),
        F("date", "日期", "date", "date", required=True),
        F("content", "内容", "content", required=True, max_length=256, multiline=True),
    ], key=_key("community", "target_group", "free", "date", "content"), community=("community",)),
    Kind("commitments", m.Commitment, "承诺", "Commitments", [
        F("member", "公民身份号码", "ID number", "idref:member"),
        F("organization", "组织编码", "org code", "ref:org"),
        F("year", "年度", "year", "year", required=True),
        F("content", "内容", "content", required=True, max_length=256, multiline=True),
        F("fulfilled", "已兑现", "fulfilled", "bool"),
        F("fulfilled_date", "兑现日期", "fulfilled date", "date"),
    ], key=_key("member", "organization", "year", "content"), community=("member", "organization")),
    Kind("zones", m.ResponsibilityZone, "党员责任区", "Responsibility zones", [
        _MEMBER,
        _COMMUNITY,
        F("name", "责任区名称", "zone", required=True, max_length=128),
        F("description", "说明", "description", optional_column=True, max_length=256, multiline=True),
    ], key=_key("member", "name"), community=("community",)),
    Kind("duty_posts", m.DutyPost, "设岗定责", "Duty posts", [
        _MEMBER,
        F("name", "岗位", "post", required=True, max_length=128),
        F("duties", "职责", "duties", optional_column=True, max_length=256, multiline=True),
        F("since", "起始日期", "since", "date", optional_column=True),
    ], key=_key("member", "name"), community=("member",)),
    Kind("volunteer_hours", m.VolunteerHours, "志愿服务", "Volunteer hours", [
        _MEMBER,
        F("date", "日期", "date", "date", required=True),
        F("hours", "小时", "hours", "days", required=True),
        F("activity", "活动", "activity", optional_column=True, max_length=256),
    ], key=_key("member", "date", "hours", "activity"), community=("member",)),
    Kind("pairings", m.Pairing, "结对帮扶", "Pairings", [
        _MEMBER,
        F("household", "帮扶对象", "household", required=True, max_length=128),
        F("since", "开始日期", "since", "date", required=True),
        F("until", "结束日期", "until", "date", optional_column=True, not_future=False),
    ], key=_key("member", "household", "since"), community=("member",)),
    Kind("diary", m.DiaryEntry, "民情日记", "Public-sentiment diary", [
        _COMMUNITY,
        F("date", "日期", "date", "date", required=True),
        F("member", "党员身份号码", "member ID number", "idref:member", optional_column=True),
        F("worker", "工作者身份号码", "worker ID number", "idref:worker", optional_column=True),
        F("content", "内容", "content", required=True, max_length=4000, multiline=True),
    ], key=_key("community", "date", "member", "worker", "content"), community=("community",)),
    Kind("decisions", m.FourTwoDecision, "四议两公开", "Four-two decisions", [
        F("code", "决策编号", "decision code", required=True, key=True, max_length=48),
        _COMMUNITY,
        F("title", "事项", "title", required=True, max_length=256),
        F("proposed", "党组织提议", "proposed", "date"),
        F("consulted", "两委会商议", "consulted", "date"),
        F("reviewed", "党员大会审议", "reviewed", "date"),
        F("resolved", "居民（代表）会议决议", "resolved", "date"),
        F("published", "决议公开", "published", "date"),
        F("result_published", "实施结果公开", "result published", "date"),
    ], community=("community",)),
    Kind("facilities", m.Facility, "阵地", "Facilities", [
        _COMMUNITY,
        F("kind", "阵地类型", "kind", "choice", required=True, choice=E.FACILITY_KIND),
        F("name", "名称", "name", max_length=128),
        F("area", "面积", "area (m2)", "days", help="平方米"),
        F("shared", "居民共享", "shared", "bool"),
        F("opened", "启用日期", "opened", "date"),
    ], key=_key("community", "kind", "name"), community=("community",)),
    Kind("units", m.ResidentUnit, "驻区单位", "Resident units", [
        _COMMUNITY,
        F("name", "单位名称", "name", required=True, max_length=128),
        F("kind", "单位类型", "kind", "choice", required=True, choice=E.UNIT_KIND),
        F("has_party_org", "有党组织", "has Party org", "bool"),
        F("part_time_member", "兼职委员", "part-time member", "bool"),
        F("joint_meeting_member", "联席会议成员", "joint-meeting member", "bool"),
    ], key=_key("community", "name"), community=("community",), ref=("unit", "name", "单位名称", "unit name")),
    Kind("consultations", m.UnitConsultation, "征求社区意见", "Unit consultations", [
        _COMMUNITY,
        F("unit", "单位名称", "resident unit", "ref:unit", required=True, help="该社区已登记的驻区单位名称"),
        F("date", "日期", "date", "date", required=True),
        F("subject", "事项", "subject", "choice", required=True, choice=E.CONSULT_SUBJECT),
        F("person", "人员", "person", optional_column=True, max_length=64),
        F("opinion", "意见", "opinion", optional_column=True, max_length=256, multiline=True),
    ], key=_key("community", "unit", "date", "subject", "person"), community=("unit",),
        importer="core.importing.engine:Consultations"),
    Kind("contact_points", m.LeaderContactPoint, "领导联系点", "Leader contact points", [
        F("leader_name", "领导姓名", "leader name", required=True, max_length=64),
        F("leader_post", "职务", "post", optional_column=True, max_length=128),
        _COMMUNITY,
        F("since", "开始日期", "since", "date", required=True),
    ], key=_key("leader_name", "community", "since"), community=("community",), writers="admin"),
    Kind("entry_items", m.EntryItem, "准入事项", "Entry items", [
        F("name", "事项名称", "name", required=True, max_length=128),
        F("department", "部门", "department", required=True, max_length=128),
        F("approval_date", "批准日期", "approval date", "date", optional_column=True),
        F("funds", "随事经费", "funds", "money", optional_column=True),
        F("meetings_per_year", "年会议数", "meetings a year", "int", optional_column=True),
        F("ledgers_per_year", "年台账数", "ledgers a year", "int", optional_column=True),
        F("reports_per_year", "年报表数", "reports a year", "int", optional_column=True),
    ], key=_key("name", "department"), writers="admin"),
    Kind("committees", m.ResidentsCommittee, "居委会", "Residents' committees", [
        _COMMUNITY,
        F("name", "居委会名称", "name", required=True, max_length=64),
    ], key=_key("community", "name"), community=("community",)),
    Kind("wages", m.UrbanWage, "城镇职工平均工资", "Urban average wage", [
        F("year", "年度", "year", "year", required=True, key=True, help="统计年度"),
        F("amount", "城镇职工平均工资", "average wage", "money", required=True, help="元/年"),
        F("source", "来源", "source", max_length=256, help="发布文件或来源"),
    ], writers="admin", order=("year",)),
    Kind("communities", m.Community, "社区", "Communities", [
        F("town", "区镇", "town", required=True, max_length=64, help="区镇名称，没有的会自动建立"),
        F("street", "街道", "street", max_length=64, help="街道名称，可空（区镇下不设街道时）；没有的会自动建立"),
        F("code", "社区编码", "community code", required=True, key=True, max_length=32, help="社区的唯一编码"),
        F("name", "社区名称", "community name", required=True, max_length=64),
    ], writers="admin", ref=("community", "code", "社区编码", "community code"), order=("code",),
        importer="core.importing.engine:Communities"),
    Kind("meetings", m.Meeting, "会议", "Meetings", [
        F("code", "会议编号", "meeting code", required=True, key=True, max_length=48),
        F("organization", "组织编码", "org code", "ref:org", required=True),
        F("type", "会议类型", "meeting type", "choice", required=True, choice=E.MEETING_TYPE),
        F("date", "日期", "date", "date", required=True),
        F("topic", "主题", "topic", max_length=256),
    ], community=("organization",), ref=("meeting", "code", "会议编号", "meeting code"),
        importer="core.importing.engine:Meetings"),
    Kind("dues", m.DuesPayment, "党费", "Dues", [
        replace(_MEMBER, key=True),
        F("month", "所属月份", "month", "month", required=True, key=True, help="YYYY-MM"),
        F("due", "应交金额", "due", "money", required=True, help="元"),
        F("paid", "实交金额", "paid", "money", help="元，空为0"),
        F("paid_date", "交纳日期", "paid date", "date", help="可早于所属月份（预交），不能晚于今天"),
    ], community=("member",)),
    Kind("visits", m.Visit, "接访走访", "Visits", [
        replace(_COMMUNITY, key=True),
        F("kind", "类型", "visit kind", "choice", required=True, key=True, choice=E.VISIT_KIND),
        F("date", "日期", "date", "date", required=True, key=True),
        F("staff", "接待人身份号码", "staff ID number", "idref:worker", key=True, help="接待人（社区工作者），可空"),
        F("member", "对象身份号码", "member ID number", "idref:member", key=True,
          help="走访对象（党员），可空；困难党员走访、流出党员联系时填写"),
        F("people", "人次", "people", "int", help="空为1"),
        F("demand", "诉求", "demand", "text", key=True, multiline=True, help="诉求内容，无诉求留空"),
        F("answered_date", "答复日期", "answered date", "date"),
        F("closed_date", "办结日期", "closed date", "date"),
        F("refused_reason", "不予受理原因", "refused reason", optional_column=True, max_length=256),
    ], community=("community",)),
    Kind("funding", m.FundingAllocation, "经费划拨", "Funding allocations", [
        replace(_COMMUNITY, key=True),
        F("year", "年度", "year", "year", required=True, key=True),
        F("amount", "金额", "amount", "money", required=True, help="元"),
        F("source", "来源", "source", "choice", required=True, key=True, choice=E.FUNDING_SOURCE),
        F("date", "日期", "date", "date", required=True, key=True),
    ], community=("community",)),
    Kind("workers", m.Worker, "社区工作者", "Community workers", [
        F("name", "姓名", "name", required=True, max_length=64),
        F("id_number", "公民身份号码", "ID number", "id", required=True, key=True),
        F("community", "社区编码", "community code", "ref:community", required=True),
        F("posts", "职务", "posts", "posts", choice=E.POST,
          help="党组织书记/居委会主任/副书记/委员/其他，多个职务用“、”分隔（一肩挑：党组织书记、居委会主任）"),
        F("post_date", "任职日期", "post date", "date",
          help="现任职务的开始日期；职务变动时，原职务在此日期结束"),
        F("education", "学历", "education", "choice", choice=E.EDUCATION),
        F("certificate", "社工证书", "certificate", "choice", choice=E.CERTIFICATE),
        F("certificate_date", "取证日期", "certificate date", "date"),
        F("hired_date", "入职日期", "hired date", "date"),
        F("college_graduate", "大学生", "college graduate", "bool", help="是/否：一社区一名大学生"),
        F("backup_talent", "后备人才", "backup talent", "bool", help="是/否：后备人才库"),
        F("filing_date", "备案日期", "filing date", "date", help="书记备案日期"),
        F("status", "在岗状态", "status", "choice", optional_column=True, choice=E.WORKER_STATUS, help="空为在岗"),
        F("exit_reason", "退出原因", "exit reason", optional_column=True, max_length=128),
        F("election_method", "选举方式", "election method", "choice", optional_column=True, choice=E.ELECTION_METHOD),
    ], community=("community",), ref=("worker", "id_number", "社区工作者身份号码", "worker ID number"),
        importer="core.importing.engine:Workers"),
]
# In the records screen's order.
BUILTIN: dict[str, Kind] = {k.name: k for k in BUILTIN_LIST}
# Old names still accepted for one release: old name -> the kind's name now.
ALIASES: dict[str, str] = {"leader_points": "contact_points"}


# ---------------------------------------------------------------- look-ups

def _plugin_kinds() -> dict[str, Kind]:
    """Kinds declared by plugins (``dangjian_register_kinds``), loading the plugins on first use."""
    from core import plugins

    return getattr(plugins.get(), "kinds", None) or {}


def all_kinds(importable: bool | None = None) -> list[Kind]:
    """Every kind, built-in first (records screen order), then the plugins' in load order."""
    out = list(BUILTIN_LIST) + list(_plugin_kinds().values())
    if importable is not None:
        out = [k for k in out if k.importable == importable]
    return out


def names(importable: bool | None = True) -> list[str]:
    """Kind names (by default those that import, export and have a template)."""
    return [k.name for k in all_kinds(importable)]


def find(name: str) -> Kind | None:
    """The kind called ``name`` (an old name of :data:`ALIASES` finds the kind it became), or None."""
    kind = BUILTIN.get(name) or BUILTIN.get(ALIASES.get(name, ""))
    if kind is None:
        kind = _plugin_kinds().get(name)
    return kind


def get(name: str, importable: bool = False) -> Kind:
    """The kind called ``name``; a UserError naming the kinds when there is none (or, with
    ``importable``, when it is not imported, exported and templated)."""
    kind = find(name)
    if kind is None or (importable and not kind.importable):
        from core.errors import UserError

        raise UserError(tr("未知的类型 {k}；可选：{a}", "unknown kind {k}; choose from: {a}",
                           k=name, a=", ".join(names(True if importable else None))))
    return kind


def fields(name: str) -> list[Field]:
    return get(name).fields


def of_model(model) -> Kind | None:
    """The kind whose model is ``model`` (None for tables that are no record kind)."""
    for kind in BUILTIN_LIST:
        if kind.model is model:
            return kind
    for kind in _plugin_kinds().values():
        if kind.model is model:
            return kind
    return None


def ref_kind(target: str) -> Kind:
    """The kind that ``ref:<target>`` / ``idref:<target>`` fields point at."""
    for kind in all_kinds():
        if kind.ref and kind.ref[0] == target:
            return kind
    raise KeyError(target)
