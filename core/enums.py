"""Enumerations (取值集合): stored as English codes, shown and imported as Chinese.

Each :class:`Choice` maps code → (Chinese label, English label).  The Chinese
label is what the import formats list; ``parse`` accepts the Chinese label,
the English label or the code.
"""
from __future__ import annotations


class Choice:
    def __init__(self, name: str, zh_name: str, items: list[tuple[str, str, str]]):
        self.name = name
        self.zh_name = zh_name
        self.items = items
        self.codes = [c for c, _, _ in items]
        self._zh = {c: z for c, z, _ in items}
        self._en = {c: e for c, _, e in items}
        self._parse = {}
        for c, z, e in items:
            self._parse[c] = c
            self._parse[z] = c
            self._parse[e.lower()] = c

    def label(self, code: str | None, lang: str = "zh") -> str:
        if code is None:
            return ""
        table = self._zh if lang == "zh" else self._en
        return table.get(code, code)

    def labels(self, lang: str = "zh") -> list[str]:
        return [self.label(c, lang) for c in self.codes]

    def parse(self, text: str | None) -> str | None:
        """Code for a label or code; None when not in the set."""
        if text is None:
            return None
        t = str(text).strip()
        return self._parse.get(t) or self._parse.get(t.lower())

    def __contains__(self, code) -> bool:
        return code in self._zh

    def __iter__(self):
        return iter(self.codes)

    def peewee_choices(self):
        return [(c, z) for c, z, _ in self.items]


ORG_KIND = Choice("org_kind", "组织类别", [
    ("committee", "党委", "Party committee"),
    ("general_branch", "党总支", "general branch"),
    ("branch", "党支部", "branch"),
    ("group", "党小组", "Party group"),
])
#: the six stages of a 四议两公开 decision, in their order (the decision's date columns)
FOUR_TWO_STAGE = Choice("four_two_stage", "四议两公开环节", [
    ("proposed", "党组织提议", "proposed by the Party organization"),
    ("consulted", "两委会商议", "discussed by the two committees"),
    ("reviewed", "党员大会审议", "reviewed by the members' assembly"),
    ("resolved", "居民（代表）会议决议", "resolved by the residents' (representatives') meeting"),
    ("published", "决议公开", "resolution published"),
    ("result_published", "实施结果公开", "result published"),
])
HOST_KIND = Choice("host_kind", "所在单位类型", [
    ("community", "社区", "community"),
    ("non_public", "非公企业", "non-public enterprise"),
    ("social_org", "社会组织", "social organization"),
])
MEMBER_STATUS = Choice("member_status", "党员状态", [
    ("full", "正式党员", "full member"),
    ("probationary", "预备党员", "probationary member"),
])
MEMBER_CLASS = Choice("member_class", "党员类别", [
    ("resident", "社区党员", "resident member"),
    ("in_service", "在职党员", "in-service member"),
    ("floating_in", "流入党员", "floating-in member"),
    ("floating_out", "流出党员", "floating-out member"),
])
SEX = Choice("sex", "性别", [("M", "男", "male"), ("F", "女", "female")])
EDUCATION = Choice("education", "学历", [
    ("middle_or_below", "初中及以下", "middle school or below"),
    ("high_school", "高中", "high school"),
    ("vocational", "中专", "secondary vocational"),
    ("college", "大专", "junior college"),
    ("bachelor", "本科", "bachelor"),
    ("postgraduate", "研究生", "postgraduate"),
])
EDUCATION_RANK = {c: i for i, c in enumerate(EDUCATION.codes)}
DUES_CLASS = Choice("dues_class", "党费类别", [
    ("employed", "在职", "employed"),
    ("retired", "离退休", "retired"),
    ("student", "学生", "student"),
    ("unemployed", "失业", "unemployed"),
    ("farmer", "农民", "farmer"),
    ("other", "其他", "other"),
])
POST = Choice("post", "职务", [
    ("secretary", "党组织书记", "Party secretary"),
    ("director", "居委会主任", "committee director"),
    ("deputy_secretary", "副书记", "deputy secretary"),
    ("committee_member", "委员", "committee member"),
    ("other", "其他", "other"),
])
CERTIFICATE = Choice("certificate", "社工证书", [
    ("none", "无", "none"),
    ("assistant", "助理社会工作师", "assistant social worker"),
    ("social_worker", "社会工作师", "social worker"),
    ("senior", "高级社会工作师", "senior social worker"),
])
WORKER_STATUS = Choice("worker_status", "在岗状态", [
    ("active", "在岗", "in post"),
    ("exited", "退出", "exited"),
])
ELECTION_METHOD = Choice("election_method", "选举方式", [
    ("open_recommendation", "公推直选", "open recommendation, direct election"),
    ("no_candidate", "无候选人直选", "direct election without candidates"),
    ("other", "其他", "other"),
])
TRAINING_LEVEL = Choice("training_level", "培训级别", [
    ("city", "市级及以上", "city or above"),
    ("town", "区镇级", "town"),
    ("street", "街道级", "street"),
])
MEETING_TYPE = Choice("meeting_type", "会议类型", [
    ("assembly", "党员大会", "general assembly"),
    ("committee_meeting", "支委会", "branch committee meeting"),
    ("group_meeting", "党小组会", "Party group meeting"),
    ("lecture", "党课", "Party lecture"),
    ("opinion", "征求意见座谈会", "opinion-seeking forum"),
    ("democratic_evaluation", "民主评议", "democratic evaluation"),
    ("deputies_deliberation", "党员代表议事", "deputies' deliberation"),
    ("briefing", "党内情况通报", "inner-Party briefing"),
    ("dialogue", "民主恳谈", "democratic dialogue"),
    ("party_mass", "党群议事", "Party-mass deliberation"),
    ("dual_statement", "勤廉双述", "diligence and integrity statement"),
    ("deputy_inquiry", "党代表询问质询", "deputies' inquiry"),
    ("joint", "联席会议", "joint meeting"),
])
ORG_LIFE_TYPES = ("assembly", "committee_meeting", "group_meeting", "lecture")
ATTENDANCE = Choice("attendance", "出勤", [
    ("present", "出席", "present"),
    ("leave", "请假", "on leave"),
    ("absent", "缺席", "absent"),
])
EVALUATION = Choice("evaluation", "评议结果", [
    ("excellent", "优秀", "excellent"),
    ("qualified", "合格", "qualified"),
    ("basically_qualified", "基本合格", "basically qualified"),
    ("unqualified", "不合格", "unqualified"),
])
VISIT_KIND = Choice("visit_kind", "类型", [
    ("reception", "接待日", "reception day"),
    ("home_visit", "走访", "home visit"),
    ("deputy_reception", "党代表接访", "deputy reception"),
    ("hardship_visit", "困难党员走访", "visit to member in difficulty"),
    ("floating_contact", "流出党员联系", "floating-out member contact"),
    ("leader_research", "领导调研", "leader's research visit"),
])
REPORT_AUDIENCE = Choice("report_audience", "述职对象", [
    ("street_committee", "街道党工委", "street Party working committee"),
    ("members_public", "党员群众", "members and residents"),
])
PUBLICATION_KIND = Choice("publication_kind", "公开类型", [
    ("visit_schedule", "接访走访时序", "reception and visit schedule"),
    ("funding", "经费公示", "funding publication"),
    ("party_affairs", "党务公开", "Party affairs publication"),
])
FUNDING_SOURCE = Choice("funding_source", "来源", [
    ("city_finance", "市级财政", "city finance"),
    ("town_finance", "区镇财政", "town finance"),
    ("entrusted", "委托事项", "entrusted tasks"),
    ("donation", "社会捐助", "donation"),
    ("unit_help", "单位帮助", "unit assistance"),
    ("other", "其他", "other"),
])
ACTIVITY_FUNDING_SOURCES = ("city_finance", "town_finance")
TRANSFER_DIRECTION = Choice("transfer_direction", "转接类型", [
    ("in", "转入", "transfer in"),
    ("out", "转出", "transfer out"),
    ("intra_city", "市内转移", "move within the city"),
])
SERVICE_TARGET = Choice("service_target", "服务对象", [
    ("residents", "社区居民", "residents"),
    ("resident_units", "驻区单位", "resident units"),
    ("unemployed", "失业人员", "unemployed"),
    ("needy", "困难群众", "people in difficulty"),
    ("migrants", "外来人员", "migrants"),
])
UNIT_KIND = Choice("unit_kind", "单位类型", [
    ("government", "机关", "government body"),
    ("enterprise", "企业", "enterprise"),
    ("institution", "事业单位", "public institution"),
    ("social_org", "社会组织", "social organization"),
    ("non_public", "非公企业", "non-public enterprise"),
])
FACILITY_KIND = Choice("facility_kind", "阵地类型", [
    ("activity_room", "党员活动室", "members' activity room"),
    ("service_hall", "一站式服务大厅", "one-stop service hall"),
    ("volunteer_studio", "党员志愿服务工作室", "volunteer studio"),
    ("other", "其他", "other"),
])
CONSULT_SUBJECT = Choice("consult_subject", "事项", [
    ("admission", "发展党员", "admission"),
    ("promotion", "提拔干部", "promotion"),
])
ROLE = Choice("role", "角色", [
    ("community", "社区", "community"),
    ("street", "街道", "street"),
    ("town", "区镇", "town"),
    ("city", "市", "city"),
    ("admin", "管理员", "administrator"),
])
FINDING_STATUS = Choice("finding_status", "结论", [
    ("pass", "通过", "pass"),
    ("fail", "不符合", "fail"),
    ("warn", "提醒", "warn"),
    ("info", "信息", "info"),
    ("error", "错误", "error"),
])
BOOL = Choice("bool", "是否", [("1", "是", "yes"), ("0", "否", "no")])

ALL = {c.name: c for c in globals().values() if isinstance(c, Choice)}
