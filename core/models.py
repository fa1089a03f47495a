"""The records of the ledger (核心数据模型), as peewee models.

Enumerations are stored as the English codes of :mod:`core.enums`.  Every
editable record carries ``version`` for optimistic locking (an edit says which
version it read; a stale edit is refused, never silently overwritten).
Natural keys are unique; foreign keys are enforced (SQLite ``foreign_keys=1``).
"""
from __future__ import annotations

import datetime as dt

from peewee import (
    BooleanField,
    CharField,
    CompositeKey,
    DateField,
    DateTimeField,
    DecimalField,
    ForeignKeyField,
    IntegerField,
    Metadata,
    Model,
    SQL,
    SqliteDatabase,
    TextField,
)

from core.db import database


def Money(**kw):
    return DecimalField(max_digits=14, decimal_places=2, auto_round=True, **kw)


class BaseModel(Model):
    version = IntegerField(default=1)

    class Meta:
        database = database
        legacy_table_names = False


# ---------------------------------------------------------------- admin tree

class Town(BaseModel):
    """区镇 (town or zone)."""
    name = CharField(max_length=64, unique=True)


class Street(BaseModel):
    """街道 (street office; may be absent for a town)."""
    town = ForeignKeyField(Town, backref="streets", on_delete="RESTRICT")
    name = CharField(max_length=64)

    class Meta:
        indexes = ((("town", "name"), True),)


class Community(BaseModel):
    """社区."""
    code = CharField(max_length=32, unique=True)
    name = CharField(max_length=64)
    town = ForeignKeyField(Town, backref="communities", on_delete="RESTRICT")
    street = ForeignKeyField(Street, null=True, backref="communities", on_delete="RESTRICT")


class ResidentsCommittee(BaseModel):
    """居委会 (several per community: 一区多居, clause 3)."""
    community = ForeignKeyField(Community, backref="committees", on_delete="CASCADE")
    name = CharField(max_length=64)

    class Meta:
        indexes = ((("community", "name"), True),)


# ---------------------------------------------------------------- Party orgs and members

class Organization(BaseModel):
    """党组织: 党委 committee / 党总支 general_branch / 党支部 branch / 党小组 group (clause 3)."""
    code = CharField(max_length=32, unique=True)
    name = CharField(max_length=128)
    kind = CharField(max_length=16, index=True)
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    community = ForeignKeyField(Community, null=True, backref="organizations", on_delete="RESTRICT")
    host_kind = CharField(max_length=16, default="community")
    founded = DateField(null=True)
    approval_no = CharField(max_length=64, null=True)  # 批准文号


class Member(BaseModel):
    """党员 (clauses 12, 13).  Status at a date follows from joined_date/full_date."""
    id_number = CharField(max_length=18, unique=True)  # 公民身份号码
    name = CharField(max_length=64, index=True)
    initials = CharField(max_length=32, index=True, default="")  # pinyin initials, e.g. zw for 张伟
    sex = CharField(max_length=1, null=True)
    birth_date = DateField(null=True)
    joined_date = DateField()  # 入党日期
    full_date = DateField(null=True)  # 转正日期; None while probationary
    # no single-column indexes: the composite indexes in Meta lead with these columns
    organization = ForeignKeyField(Organization, null=True, backref="members", on_delete="RESTRICT", index=False)
    community = ForeignKeyField(Community, null=True, backref="members", on_delete="RESTRICT", index=False)
    management_class = CharField(max_length=16, default="resident")  # resident/in_service/floating_in/floating_out
    retired = BooleanField(default=False)
    mobility_impaired = BooleanField(default=False)
    registered_date = DateField(null=True)  # 报到日期 (floating-in, in-service)
    placed_date = DateField(null=True)  # 编入日期 (floating-in)
    certificate_no = CharField(max_length=64, null=True)  # 流动党员活动证号
    contact_person = CharField(max_length=64, null=True)  # 联系人 (floating-out)
    education = CharField(max_length=24, null=True)
    phone = CharField(max_length=32, null=True)
    work_unit = CharField(max_length=128, null=True)
    dues_class = CharField(max_length=16, null=True)
    monthly_income = Money(null=True)
    active = BooleanField(default=True)  # False once transferred out of the city roster
    left_date = DateField(null=True)

    class Meta:
        indexes = (
            (("community", "management_class", "active"), False),
            (("organization", "active"), False),
        )

    def status_at(self, date: dt.date) -> str:
        return "full" if self.full_date and self.full_date <= date else "probationary"

    def save(self, *a, **kw):
        n = super().save(*a, **kw)
        _replay(self.id)
        return n


def _replay(member_id) -> None:
    """An instance saved or deleted one by one (a member, its transfer or class change):
    its member's roster spans follow.  (The write path and the importer write in blocks and
    rebuild the spans of the block themselves.)"""
    from core import roster_replay

    if member_id is not None:
        roster_replay.rebuild(database, [member_id])


# Those who left the roster (few) in a partial index of their searched columns, which the
# members list's count reads; core.roster.left_sql writes LEFT_ROSTER as its condition (a
# planner matches a partial index's condition by its text).
LEFT_ROSTER = "active = false"
Member.add_index(Member.index(Member.name, Member.initials, Member.id_number, name="member_left",
                              where=SQL(LEFT_ROSTER)))


class _MemberMove:
    """A dated move of a member (transfer, class change): saving or deleting one rebuilds the
    member's roster spans."""

    def save(self, *a, **kw):
        n = super().save(*a, **kw)
        _replay(self.member_id)
        return n

    def delete_instance(self, *a, **kw):
        mid = self.member_id
        n = super().delete_instance(*a, **kw)
        _replay(mid)
        return n


class Transfer(_MemberMove, BaseModel):
    """组织关系转接: 转入 in / 转出 out / 市内转移 intra_city (clauses 3, 12)."""
    member = ForeignKeyField(Member, backref="transfers", on_delete="CASCADE")
    direction = CharField(max_length=16)
    from_org = CharField(max_length=128, null=True)  # org code inside the city, free text outside
    to_org = CharField(max_length=128, null=True)
    date = DateField()
    letter_no = CharField(max_length=64, null=True)

    class Meta:
        indexes = ((("member", "date"), True),)


class ClassChange(_MemberMove, BaseModel):
    """党员类别变更: the member's management class from ``date`` on (社区党员 ↔ 流出党员, entering
    or leaving 在职党员 …).  ``old_class`` is derived by the write path (the class in force the
    day before), so the history replays backwards from the member's record."""
    member = ForeignKeyField(Member, backref="class_changes", on_delete="CASCADE")
    new_class = CharField(max_length=16)
    old_class = CharField(max_length=16, null=True)
    date = DateField()
    note = CharField(max_length=256, null=True)

    class Meta:
        indexes = ((("member", "date"), True),)


class SqliteOnlyWithoutRowid(Metadata):
    """Table metadata whose ``WITHOUT ROWID`` applies on SQLite only (PostgreSQL has no such
    clause; its tables keep no rowid anyway)."""

    @property
    def without_rowid(self):
        db = getattr(self.database, "obj", self.database)
        return isinstance(db, SqliteDatabase)

    @without_rowid.setter
    def without_rowid(self, value):
        pass


class RosterPeriod(Model):
    """Derived, never edited: one span of days over which a member was on the city roster
    with the same organization, community and management class (``end`` None: still open).
    :mod:`core.roster` replays it from the member record, transfers, class changes and the
    placement (编入), and the write path rebuilds a member's spans whenever one of those changes."""
    member = ForeignKeyField(Member, backref="+", on_delete="CASCADE", index=False)
    start = DateField()
    end = DateField(null=True)
    organization = IntegerField(null=True)
    community = IntegerField(null=True)
    management_class = CharField(max_length=16)

    class Meta:
        database = database
        legacy_table_names = False
        primary_key = CompositeKey("member", "start")  # a member's spans never share a first day
        model_metadata_class = SqliteOnlyWithoutRowid  # SQLite: the spans stored in member order
        indexes = (
            (("organization", "start"), False),
            (("community", "management_class", "start"), False),
        )


class FloatingCertificate(BaseModel):
    """流动党员活动证 (clause 13)."""
    number = CharField(max_length=64, unique=True)
    member = ForeignKeyField(Member, backref="certificates", on_delete="CASCADE")
    issued_by = CharField(max_length=128, null=True)
    issue_date = DateField(null=True)
    destination = CharField(max_length=128, null=True)
    valid_until = DateField(null=True)
    returned_date = DateField(null=True)


# ---------------------------------------------------------------- community workers

class Worker(BaseModel):
    """社区工作者 (clauses 6–9): one record per person."""
    id_number = CharField(max_length=18, unique=True)
    name = CharField(max_length=64, index=True)
    initials = CharField(max_length=32, index=True, default="")
    sex = CharField(max_length=1, null=True)
    birth_date = DateField(null=True)
    community = ForeignKeyField(Community, backref="workers", on_delete="RESTRICT")
    education = CharField(max_length=24, null=True)
    certificate = CharField(max_length=24, default="none")  # 社工证书 level
    certificate_date = DateField(null=True)
    hired_date = DateField(null=True)
    college_graduate = BooleanField(default=False)  # 一社区一名大学生
    backup_talent = BooleanField(default=False)  # 后备人才库
    filing_date = DateField(null=True)  # 书记备案日期
    election_method = CharField(max_length=24, null=True)
    status = CharField(max_length=8, default="active")  # active / exited
    exit_reason = CharField(max_length=128, null=True)
    phone = CharField(max_length=32, null=True)

    class Meta:
        indexes = ((("community", "status"), False),)


class WorkerPost(BaseModel):
    """A post a worker holds, with start and end (a past year's check uses the posts held then)."""
    worker = ForeignKeyField(Worker, backref="posts", on_delete="CASCADE")
    post = CharField(max_length=24)  # secretary / director / deputy_secretary / committee_member / other
    start_date = DateField()
    end_date = DateField(null=True)

    class Meta:
        indexes = ((("worker", "post", "start_date"), True), (("post", "start_date"), False))


class WorkerPay(BaseModel):
    """年基本报酬: a worker's base pay for a year (clause 9)."""
    worker = ForeignKeyField(Worker, backref="pay", on_delete="CASCADE")
    year = IntegerField()
    base_pay = Money()

    class Meta:
        indexes = ((("worker", "year"), True),)


class Training(BaseModel):
    """培训 (clause 7): level city / town / street."""
    worker = ForeignKeyField(Worker, backref="trainings", on_delete="CASCADE")
    title = CharField(max_length=128)
    level = CharField(max_length=8)
    start_date = DateField()
    days = DecimalField(max_digits=6, decimal_places=1, auto_round=True)

    class Meta:
        indexes = ((("worker", "title", "start_date"), True), (("start_date",), False))


class DutyReport(BaseModel):
    """述职 (clause 8): to 街道党工委 street_committee or 党员群众 members_public."""
    worker = ForeignKeyField(Worker, backref="duty_reports", on_delete="CASCADE")
    year = IntegerField()
    audience = CharField(max_length=24)
    date = DateField()
    rating = CharField(max_length=32, null=True)

    class Meta:
        indexes = ((("worker", "year", "audience"), True),)


class UrbanWage(BaseModel):
    """城镇职工平均工资: the statistics year's figure, yuan a year (clause 9; data, not config)."""
    year = IntegerField(unique=True)
    amount = Money()
    source = CharField(max_length=256, null=True)


# ---------------------------------------------------------------- org life

class Meeting(BaseModel):
    """会议/活动 (clauses 11, 13, 14, 17)."""
    code = CharField(max_length=48, unique=True)
    organization = ForeignKeyField(Organization, backref="meetings", on_delete="RESTRICT")
    type = CharField(max_length=32)
    date = DateField()
    topic = CharField(max_length=256, null=True)

    class Meta:
        indexes = ((("organization", "type", "date"), False), (("type", "date"), False))


class Attendance(BaseModel):
    """出勤: present / leave (needs a reason) / absent."""
    # no single-column FK indexes: the two composite indexes below cover them (bulk inserts ~25 % faster);
    # the second holds the meeting too, so counts by member and status read the index alone
    meeting = ForeignKeyField(Meeting, backref="attendance", on_delete="CASCADE", index=False)
    member = ForeignKeyField(Member, backref="attendance", on_delete="CASCADE", index=False)
    status = CharField(max_length=8)
    leave_reason = CharField(max_length=256, null=True)

    class Meta:
        indexes = ((("meeting", "member"), True), (("member", "status", "meeting"), False))


class Evaluation(BaseModel):
    """民主评议结果 (clause 13)."""
    member = ForeignKeyField(Member, backref="evaluations", on_delete="CASCADE")
    year = IntegerField()
    result = CharField(max_length=24)

    class Meta:
        indexes = ((("member", "year"), True),)


class DuesPayment(BaseModel):
    """党费: one row per member and month ('YYYY-MM')."""
    member = ForeignKeyField(Member, backref="dues", on_delete="CASCADE", index=False)  # (member, month) covers it
    month = CharField(max_length=7)
    due = Money()
    paid = Money(default=0)
    paid_date = DateField(null=True)

    class Meta:
        indexes = ((("member", "month"), True), (("month",), False))


# ---------------------------------------------------------------- service to residents

class Visit(BaseModel):
    """接访/走访 with the demand (诉求) raised, if any (clauses 11, 12, 13, 20)."""
    community = ForeignKeyField(Community, backref="visits", on_delete="RESTRICT")
    kind = CharField(max_length=24)
    date = DateField()
    staff = ForeignKeyField(Worker, null=True, backref="visits", on_delete="SET NULL")  # 接待人
    member = ForeignKeyField(Member, null=True, backref="visits", on_delete="SET NULL")  # 对象
    people = IntegerField(default=1)  # 人次
    demand = TextField(default="")  # 诉求; '' when none
    answered_date = DateField(null=True)
    closed_date = DateField(null=True)
    refused_reason = CharField(max_length=256, null=True)  # 不予受理原因

    class Meta:
        indexes = ((("community", "kind", "date"), False), (("member", "kind", "date"), False))


class Publication(BaseModel):
    """Yearly publications: 接访走访时序 visit_schedule / 经费公示 funding / 党务公开 party_affairs."""
    community = ForeignKeyField(Community, backref="publications", on_delete="CASCADE")
    year = IntegerField()
    kind = CharField(max_length=24)
    date = DateField()

    class Meta:
        indexes = ((("community", "year", "kind", "date"), True),)


class FundingAllocation(BaseModel):
    """经费划拨 (clauses 18, 19)."""
    community = ForeignKeyField(Community, backref="allocations", on_delete="CASCADE")
    year = IntegerField()
    amount = Money()
    source = CharField(max_length=24)
    date = DateField()

    class Meta:
        indexes = ((("community", "year", "source", "date"), True),)


class Expenditure(BaseModel):
    """经费支出 (clause 19)."""
    community = ForeignKeyField(Community, backref="expenditures", on_delete="CASCADE")
    date = DateField()
    amount = Money()
    purpose = CharField(max_length=256)

    class Meta:
        indexes = ((("community", "date", "purpose"), True),)


class ServiceRecord(BaseModel):
    """服务 (clause 10)."""
    community = ForeignKeyField(Community, backref="services", on_delete="CASCADE")
    target_group = CharField(max_length=24)
    free = BooleanField(default=True)  # free (无偿) or low-cost (低偿)
    date = DateField()
    content = CharField(max_length=256)


class Commitment(BaseModel):
    """承诺 by a member or an organization, with fulfilment (clauses 12, 16)."""
    member = ForeignKeyField(Member, null=True, backref="commitments", on_delete="CASCADE")
    organization = ForeignKeyField(Organization, null=True, backref="commitments", on_delete="CASCADE")
    year = IntegerField()
    content = CharField(max_length=256)
    fulfilled = BooleanField(default=False)
    fulfilled_date = DateField(null=True)


class ResponsibilityZone(BaseModel):
    """党员责任区."""
    member = ForeignKeyField(Member, backref="zones", on_delete="CASCADE")
    community = ForeignKeyField(Community, backref="zones", on_delete="CASCADE")
    name = CharField(max_length=128)
    description = CharField(max_length=256, null=True)


class DutyPost(BaseModel):
    """设岗定责: a post with duties held by a member."""
    member = ForeignKeyField(Member, backref="duty_posts", on_delete="CASCADE")
    name = CharField(max_length=128)
    duties = CharField(max_length=256, null=True)
    since = DateField(null=True)


class VolunteerHours(BaseModel):
    """志愿服务时长 (retirees' 老有所为 included)."""
    member = ForeignKeyField(Member, backref="volunteer_hours", on_delete="CASCADE")
    date = DateField()
    hours = DecimalField(max_digits=6, decimal_places=1, auto_round=True)
    activity = CharField(max_length=256, null=True)

    class Meta:
        indexes = ((("member", "date"), False),)


class Pairing(BaseModel):
    """结对帮扶: a member and a household in difficulty."""
    member = ForeignKeyField(Member, backref="pairings", on_delete="CASCADE")
    household = CharField(max_length=128)
    since = DateField()
    until = DateField(null=True)


class DiaryEntry(BaseModel):
    """民情日记."""
    community = ForeignKeyField(Community, backref="diary", on_delete="CASCADE")
    member = ForeignKeyField(Member, null=True, backref="diary", on_delete="SET NULL")
    worker = ForeignKeyField(Worker, null=True, backref="diary", on_delete="SET NULL")
    date = DateField()
    content = TextField()


class FourTwoDecision(BaseModel):
    """四议两公开 (clause 14): six dated stages."""
    code = CharField(max_length=48, unique=True)
    community = ForeignKeyField(Community, backref="decisions", on_delete="CASCADE")
    title = CharField(max_length=256)
    proposed = DateField(null=True)  # 党组织提议
    consulted = DateField(null=True)  # 两委会商议
    reviewed = DateField(null=True)  # 党员大会审议
    resolved = DateField(null=True)  # 居民（代表）会议决议
    published = DateField(null=True)  # 决议公开
    result_published = DateField(null=True)  # 实施结果公开

    STAGES = ("proposed", "consulted", "reviewed", "resolved", "published", "result_published")


class Facility(BaseModel):
    """阵地 (clauses 15, 16)."""
    community = ForeignKeyField(Community, backref="facilities", on_delete="CASCADE")
    kind = CharField(max_length=24)
    name = CharField(max_length=128, null=True)
    area = DecimalField(max_digits=10, decimal_places=1, auto_round=True, null=True)  # m²
    shared = BooleanField(default=True)
    opened = DateField(null=True)


class ResidentUnit(BaseModel):
    """驻区单位 (clauses 3, 5, 17)."""
    community = ForeignKeyField(Community, backref="units", on_delete="CASCADE")
    name = CharField(max_length=128)
    kind = CharField(max_length=24)
    has_party_org = BooleanField(default=False)
    part_time_member = BooleanField(default=False)  # 兼职委员
    joint_meeting_member = BooleanField(default=False)  # 联席会议成员

    class Meta:
        indexes = ((("community", "name"), True),)


class UnitConsultation(BaseModel):
    """征求社区意见 when a resident unit admits members or promotes cadres (clause 17)."""
    unit = ForeignKeyField(ResidentUnit, backref="consultations", on_delete="CASCADE")
    date = DateField()
    subject = CharField(max_length=24)  # admission / promotion
    person = CharField(max_length=64, null=True)
    opinion = CharField(max_length=256, null=True)


class LeaderContactPoint(BaseModel):
    """联系点 of a leading cadre (clause 20)."""
    leader_name = CharField(max_length=64)
    leader_post = CharField(max_length=128, null=True)
    community = ForeignKeyField(Community, backref="leader_points", on_delete="CASCADE")
    since = DateField()


class EntryItem(BaseModel):
    """准入事项 (clauses 18, 21)."""
    name = CharField(max_length=128)
    department = CharField(max_length=128)
    approval_date = DateField(null=True)
    funds = Money(null=True)  # 费随事转
    meetings_per_year = IntegerField(default=0)
    ledgers_per_year = IntegerField(default=0)
    reports_per_year = IntegerField(default=0)


# ---------------------------------------------------------------- system

class CheckRun(BaseModel):
    """A stored `dangjian check` run (findings are kept; ``core.findings``).

    What it covered, by ``--town`` / ``--community`` and the user's scope: a town, a
    street of that town, a community (empty: not limited; a whole city's run has
    none), and the rules it was limited to by ``--rule`` (comma-separated; empty:
    every rule)."""
    started_at = DateTimeField(default=dt.datetime.now, index=True)
    finished_at = DateTimeField(null=True)
    year = IntegerField()
    as_of = DateField()
    town = CharField(max_length=64, null=True)
    street = CharField(max_length=64, null=True)
    community = CharField(max_length=32, null=True)
    rules = TextField(null=True)
    user = CharField(max_length=64, null=True)
    counts = TextField(default="{}")  # JSON {status: n}


class StoredFinding(BaseModel):
    """A finding of a stored run (the fields of a check finding)."""
    run = ForeignKeyField(CheckRun, backref="findings", on_delete="CASCADE", index=False)  # (run, community) covers it
    rule = CharField(max_length=64)
    clause = IntegerField(null=True)
    status = CharField(max_length=8)
    town = CharField(max_length=64, null=True)
    community = CharField(max_length=32, null=True)
    subject = CharField(max_length=64)
    message = TextField()
    evidence = TextField(default="{}")  # JSON

    class Meta:
        indexes = ((("run", "community"), False), (("run", "rule", "status"), False))


class StoredCount(BaseModel):
    """The findings of a stored run counted by rule, clause, status, town and community (the
    community empty for a town's or the city's own findings), counted as the run is stored:
    what the compliance grid, the dashboard and the scorers read of a run -- about 10,000 rows
    for a city's 200,000 findings (:func:`core.findings.run_counts`)."""
    run = ForeignKeyField(CheckRun, backref="counted", on_delete="CASCADE", index=False)  # (run, community) covers it
    rule = CharField(max_length=64)
    clause = IntegerField(null=True)
    status = CharField(max_length=8)
    town = CharField(max_length=64, null=True)
    community = CharField(max_length=32, null=True)
    n = IntegerField()

    class Meta:
        indexes = ((("run", "community"), False),)


class PluginFailure(BaseModel):
    """插件故障记录: the last failure of a plugin's hook in a town, from any command or the app
    (:mod:`core.plugin_status`): what ``dangjian plugins`` and the app's plugin status show.

    ``hook`` is as :class:`core.plugins.Failure` names it (``load``, ``dangjian_funding_split``,
    ``rule <id>``, ``scorer <name>``, ``report <name>`` …); ``town`` is empty for a failure of
    the whole city; ``location`` is file:line.  A row goes when that hook later runs for that
    town without failing, or, for a failure to load, when the plugin loads again."""
    plugin = TextField()
    hook = TextField()
    town = CharField(max_length=64, default="")
    location = TextField(default="")
    message = TextField()
    at_load = BooleanField(default=False)
    at = DateTimeField(default=dt.datetime.now)
    command = TextField(default="")
    user = CharField(max_length=64, null=True)

    class Meta:
        indexes = ((("plugin", "hook", "town"), True),)


class User(BaseModel):
    """A user of the system: OS login → role and scope."""
    login = CharField(max_length=64, unique=True)
    role = CharField(max_length=16)
    scope = CharField(max_length=128, default="city")  # community code / town / town/street / city
    read_only = BooleanField(default=False)
    full_personal_data = BooleanField(default=False)
    created_at = DateTimeField(default=dt.datetime.now)


class AuditLog(BaseModel):
    """审计日志: who, when, what record, old → new."""
    at = DateTimeField(default=dt.datetime.now, index=True)
    user = CharField(max_length=64, index=True)
    action = CharField(max_length=8)  # create / update / delete
    table = CharField(max_length=64)
    key = CharField(max_length=256)
    old = TextField(null=True)  # JSON
    new = TextField(null=True)  # JSON
    community = IntegerField(null=True, index=True)  # Community id the record belongs to (scoped reading)

    class Meta:
        indexes = ((("table", "key"), False),)


class SchemaVersion(Model):
    version = IntegerField()

    class Meta:
        database = database
        table_name = "schema_version"


CORE_MODELS = [
    Town, Street, Community, ResidentsCommittee, Organization, Member, Transfer, ClassChange, RosterPeriod,
    FloatingCertificate, Worker, WorkerPost, WorkerPay, Training, DutyReport, UrbanWage,
    Meeting, Attendance, Evaluation, DuesPayment, Visit, Publication, FundingAllocation,
    Expenditure, ServiceRecord, Commitment, ResponsibilityZone, DutyPost, VolunteerHours,
    Pairing, DiaryEntry, FourTwoDecision, Facility, ResidentUnit, UnitConsultation,
    LeaderContactPoint, EntryItem, CheckRun, StoredFinding, StoredCount, PluginFailure, User, AuditLog,
]
