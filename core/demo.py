"""Demo city (演示数据): deterministic from a seed and "today" (DANGJIAN_TODAY).

``build(size="small"|"city"|"province", seed=20111, progress=False, scale=1.0)``
fills an empty, migrated database and returns a dict of counts (labels
through ``tr``).

Sizes
    ``small`` (the default): one town, 玉山镇 (so the built-in 50/50 city/town
    funding split applies), 3 communities, 300 members, 25 workers.
    ``city``: 13 towns and zones of Kunshan, 350 communities, 100,000 members,
    3,000 workers and well over a million attendance rows.
    ``province`` (for benchmarks): ten cities of Jiangsu (``CITIES``: Kunshan
    first, then 张家港, 常熟, 太仓, 吴中, 吴江, 相城, 江阴, 宜兴, 溧阳), each the
    size of the city with its own area code (its people's ID numbers, its
    community codes ``<area><town><community>``), towns and local names:
    3,500 communities, 1,000,000 members, 30,000 workers, ~20 million
    attendance rows and ~18 million dues rows.  Each city is planned like the
    city, written, and dropped before the next (memory stays that of one
    city); moves stay inside a city.  The first city is the seed's own, so
    at full scale it is the city demo itself.
    ``scale`` (keyword) multiplies a size's counts, for quick tests of the same
    code path (the province shares its scaled totals out over the ten cities).

Determinism
    Everything comes from ``random.Random(seed)`` and ``core.dates.today()``
    (``DANGJIAN_TODAY``); never the global random or the clock.  Records cover
    the previous and the current calendar year up to today; nothing is dated
    after today.  The urban average wage (城镇职工平均工资) is entered for the
    two years before the current one, so ``pay.secretary_floor`` can check
    both years.

Conventions (what the rules can rely on)
    * Every community has one top organization (``parent`` None): a 党委 when
      it has more than 100 formal members whose relationship is there, a 党总支
      above 50, else a 党支部 — except where non-compliance is planted.
      党支部 hang under the top (a top 党支部 is itself the only branch);
      党小组 hang under a 党支部.
    * A member's ``organization`` is the 党支部, or — in a branch that has
      党小组 — the member's 党小组 (whose ``parent`` is the branch).  So
      "members in it and below it" of a branch includes its groups' members;
      the branch's 党员大会 and 党课 are held for the members of the branch and
      of its groups; a 党小组会 (meeting of the group) for the group's members.
    * ``Member.community`` is always set (the community of the member's
      organization; for a 流入党员 not yet placed, the community where the
      member registered).  在职党员 and placed 流入党员 hang under a branch of
      the community too; their relationship is elsewhere.
    * Attendance rows are written for 社区党员 and placed 流入党员 (a
      mobility-impaired member is on leave, reason 行动不便) at their
      党员大会, 党课, 党小组会 and 民主评议; 支委会 attendance for the branch
      committee.  在职党员 and 流出党员 have none.
    * Dues rows (one per month, ``paid`` 0 while unpaid) for members whose
      relationship is in the community, from January of the previous year or
      the month of joining or transferring in, to the current month.
    * Opinion-seeking forums and other community meetings belong to the
      community's top organization; 民主评议 meetings to each branch.
    * Visits: 接待日 and 走访 weekly per community with a worker as staff;
      困难党员走访 and 流出党员联系 quarterly with ``member`` set.
    * Moves are dated from March to October of the previous and the current
      year, some on the 1st and some on the last day of a month: 转入 from
      outside the city, 转出 out of it, 市内转移 to another branch of the same
      community, another community of the town or another town (``Transfer``
      rows with the organization codes), and class changes (``ClassChange``:
      社区党员 → 流出党员, 流出党员 → 社区党员, both one after the other,
      在职党员 ↔ 社区党员).  The member record holds today's state: the
      organization and class after the latest move; a member transferred out
      keeps the last organization, ``active`` False and ``left_date`` the
      transfer's date; a member transferred in is on the roster from that
      date.  Attendance follows the organization and class of each meeting's
      date; dues rows cover the months whose last day (today for the current
      month) the relationship was in the community.  The roster's spans
      (``RosterPeriod``) are rebuilt from all this at the end of the build.

Speed: rows get explicit ids and go in by the bulk path in chunks of 50,000
(``executemany`` on SQLite, with foreign-key checks off for the build's
connection, one transaction per 10 communities; ``COPY`` on PostgreSQL, where
the whole build is one transaction with the foreign keys and secondary indexes
of the demo's tables dropped and made again at the end, and the sequences are
then moved past the ids).  The city takes about 25 s of CPU
(``bench/demo_city.py``); the province about ten times that.

Non-compliance is planted on purpose so that every rule of the check that can
pass or fail has failing subjects and passing ones (a 党委 without approval
number, an oversized branch, weeks without reception, late demands, members
absent six months, six months of unpaid dues, …).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import math
import random
import sys
import time
from decimal import ROUND_HALF_UP, Decimal

from peewee import fn

from core import ids as idnum
from core import models, roster_replay
from core.dates import today as _today
from core.db import copy_in, database, is_postgres, is_sqlite, refresh_statistics, write_tx
from core.errors import UserError
from core.i18n import tr
from core.pinyin import initials as _initials


# ====================================================================== public API

def has_data() -> bool:
    return models.Community.select().exists() or models.Member.select().exists()


def wipe() -> None:
    """Delete every record (keeps users and the schema), plugin tables included.

    PostgreSQL: one ``TRUNCATE … RESTART IDENTITY``.  SQLite: whole-table
    ``DELETE``s, children before parents, with foreign-key checks off for the
    statement (SQLite then drops the pages at once instead of checking and
    deleting millions of rows one by one).
    """
    try:
        from core.plugins import registered_models

        extra = [m for m in registered_models() if m not in models.CORE_MODELS]
    except Exception:  # no plugin manager loaded (a bare library use)
        extra = []
    tables = extra + [m for m in reversed(models.CORE_MODELS) if m is not models.User]
    if is_postgres():
        with write_tx():
            names = ", ".join(f'"{m._meta.table_name}"' for m in tables if m.table_exists())
            database.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        return
    fk_off = is_sqlite() and not database.in_transaction()
    if fk_off:
        database.execute_sql("PRAGMA foreign_keys=OFF")
    try:
        with write_tx():
            for model in tables:
                if model in extra and not model.table_exists():
                    continue
                model.delete().execute()
    finally:
        if fk_off:
            database.execute_sql("PRAGMA foreign_keys=ON")


SIZES = {
    "small": {"communities": 3, "members": 300, "workers": 25},
    "city": {"communities": 350, "members": 100_000, "workers": 3000},
    "province": {"communities": 3500, "members": 1_000_000, "workers": 30_000},  # ten cities (CITIES)
}


def build(size: str = "small", seed: int = 20111, progress: bool = False, *, scale: float = 1.0) -> dict:
    """Fill the (empty, migrated) database with the demo; return counts by label."""
    check_size(size, scale)
    _require_empty()
    if size == "province":
        gen = _Province(seed, _today(), progress, scale)
    else:
        gen = _Generator(size, seed, _today(), progress, scale)
    try:
        with _pg_bulk_load(gen.say):
            gen.run()
        if progress:
            print(file=sys.stderr)  # the progress line ends
    except BaseException:
        try:
            wipe()
        except Exception:  # pragma: no cover - best effort after a failure
            pass
        raise
    return gen.summary()


def check_size(size: str, scale: float = 1.0) -> None:
    """A UserError unless ``size`` is one of ``SIZES`` and ``scale`` a positive number."""
    if size not in SIZES:
        raise UserError(tr("未知的演示规模 {s}：可选 small、city、province",
                           "unknown demo size {s}: small, city or province", s=size))
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise UserError(tr("演示规模倍数须为正数：{s}", "the demo scale must be a positive number: {s}", s=scale))


def _require_empty() -> None:
    skip = {models.User, models.AuditLog, models.CheckRun, models.StoredFinding, models.StoredCount,
            models.PluginFailure,
            models.UrbanWage}
    for model in models.CORE_MODELS:
        if model not in skip and model.select().exists():
            raise UserError(tr("数据库已有数据（{t}），请用 dangjian demo --reset 重建",
                               "the database holds data ({t}); rebuild with dangjian demo --reset",
                               t=model._meta.table_name))


# ====================================================================== reference data

TOWNS = [  # name, code (统计用区划代码 style), weight (share of communities), rural
    ("玉山镇", "320583100", 40, False),
    ("昆山开发区", "320583400", 58, False),
    ("昆山高新区", "320583402", 45, False),
    ("花桥经济开发区", "320583401", 35, False),
    ("周市镇", "320583102", 30, False),
    ("陆家镇", "320583103", 25, False),
    ("张浦镇", "320583106", 25, False),
    ("巴城镇", "320583101", 25, True),
    ("千灯镇", "320583108", 20, True),
    ("旅游度假区", "320583403", 12, True),
    ("淀山湖镇", "320583105", 12, True),
    ("周庄镇", "320583107", 11, True),
    ("锦溪镇", "320583109", 12, True),
]
STREETS = {
    "昆山开发区": ["青阳街道", "中华园街道", "蓬朗街道", "兵希街道"],
    "昆山高新区": ["玉山街道", "城北街道"],
    "玉山镇": ["城中街道"],  # some of the town's communities are under it, others directly under the town
}
SPLIT_TOWNS = ("昆山开发区", "玉山镇")

SURNAMES = (
    "王" * 9 + "李" * 8 + "张" * 8 + "刘" * 6 + "陈" * 7 + "杨" * 4 + "黄" * 3 + "赵" * 3 + "吴" * 4 + "周" * 5
    + "徐" * 5 + "孙" * 3 + "马" * 2 + "朱" * 5 + "胡" * 3 + "郭" * 2 + "何" * 2 + "高" * 2 + "林" * 2 + "罗"
    + "郑" * 2 + "梁" + "谢" * 2 + "宋" + "唐" * 2 + "许" * 2 + "韩" + "冯" * 2 + "邓" + "曹" * 2 + "彭" + "曾" * 2
    + "肖" + "田" + "董" + "袁" + "潘" * 2 + "于" + "蒋" * 2 + "蔡" + "余" + "杜" + "叶" * 2 + "程" + "苏" + "魏"
    + "吕" + "丁" * 2 + "任" + "沈" * 4 + "姚" * 2 + "卢" + "姜" + "崔" + "钟" + "谭" + "陆" * 4 + "汪" + "范" * 2
    + "金" * 2 + "石" + "廖" + "贾" + "夏" * 2 + "韦" + "方" + "白" + "邹" + "孟" + "熊" + "秦" + "邱" + "江"
    + "尹" + "薛" + "顾" * 4 + "陶" + "钱" * 3 + "单" * 2 + "解" + "查" + "缪" + "翟" + "仇" + "盛" + "严" + "俞"
)
MALE_CHARS = "伟强军勇杰涛明超斌刚平辉华建国峰磊鹏飞俊浩宇文志海波林东亮新兵成龙毅健晨昊宏忠荣德春兴福根金宝祥卫民振永庆"
FEMALE_CHARS = "芳娟敏静丽艳霞秀英玲红梅燕萍洁琳婷雪慧莉颖倩佳欣晓丹凤兰琴云月桂珍琪悦雯怡蓉菊娣英华美"
NAME_A = "青朝新锦春金银玉绿紫翠康和安福顺泰华嘉盛兴明德仁秀"
NAME_B = "阳华苑园城湾庭桥港湖塘浜泾溪坊里"
OTHER_AREAS = ["340121", "341221", "412723", "411522", "320321", "321323", "510522", "362427", "430524", "370725",
               "320981", "321084"]
PHONE_HEADS = ["138", "139", "158", "159", "187", "188", "137", "136", "151", "152", "150", "189", "180", "181",
               "199", "177", "135", "133"]
IN_SERVICE_UNITS = ["昆山市教育局", "昆山市第一人民医院", "昆山市中医医院", "昆山市市场监督管理局", "昆山市住房和城乡建设局",
                    "昆山市民政局", "国家税务总局昆山市税务局", "昆山市公安局", "昆山市第一中学", "昆山市实验小学",
                    "昆山农村商业银行", "国网昆山市供电公司", "昆山市自来水集团", "昆山市交通运输局",
                    "昆山市文体广电和旅游局", "昆山市卫生健康委员会"]
COMPANY_A = "华鼎恒裕新康盛龙宏嘉科通达瑞丰"
COMPANY_B = ["电子", "精密机械", "光电", "科技", "模具", "物流", "食品", "服饰", "新材料", "汽车配件", "信息技术",
             "建设工程", "医疗器械"]
DESTINATIONS = ["上海市浦东新区", "上海市闵行区", "苏州工业园区", "南京市江宁区", "杭州市滨江区", "深圳市南山区",
                "无锡市新吴区", "北京市朝阳区", "广州市天河区", "宁波市鄞州区"]
OUTSIDE_ORGS = ["中共上海市浦东新区某街道工委", "中共南京市江宁区某社区委员会", "中共安徽省阜阳市某村支部",
                "中共河南省周口市某社区支部", "中共苏州市吴中区某社区委员会", "某高校学生党支部"]
DEMANDS = ["小区路灯损坏，夜间出行不便", "楼道堆放杂物，存在消防隐患", "希望增设电动自行车充电桩", "小区绿化带被占用种菜",
           "夜间施工噪音扰民，请求协调", "申请困难补助", "咨询医保参保手续", "反映雨污管道堵塞", "希望开设老年助餐点",
           "停车位紧张，请求规划", "请求调解邻里纠纷", "反映物业服务不到位", "咨询居住证办理", "希望增加健身器材",
           "反映垃圾分类投放点异味"]
REFUSED = ["属于司法程序处理事项，已告知通过诉讼途径解决", "诉求涉及个人商业纠纷，不属社区受理范围"]
LEAVE_REASONS = ["外出", "生病", "工作冲突", "照顾家人", "出差", "住院"]
TOPICS = {
    "assembly": ["学习贯彻党的二十大精神", "传达上级党组织会议精神", "讨论发展党员", "通报党费收缴情况", "主题党日活动"],
    "lecture": ["书记讲党课：坚定理想信念", "党章党规学习", "党史学习教育专题党课", "新时代基层治理专题党课"],
    "committee_meeting": ["研究本月支部工作", "讨论党员发展计划", "研究困难党员帮扶", "部署主题党日活动"],
    "group_meeting": ["学习交流", "讨论楼道治理", "志愿服务安排", "学习上级文件"],
    "opinion": ["征求居民对社区工作的意见和建议", "征求对社区两委班子的意见"],
    "democratic_evaluation": ["民主评议党员"],
    "joint": ["社区联席会议：共驻共建项目"], "party_mass": ["党群议事：小区改造"], "briefing": ["党内情况通报"],
    "dialogue": ["民主恳谈会"], "dual_statement": ["勤廉双述"], "deputy_inquiry": ["党代表询问质询"],
    "deputies_deliberation": ["党员代表议事"],
}
TRAININGS_CITY = ["昆山市社区党组织书记示范培训班", "昆山市社区居委会主任能力提升班", "苏州市基层党建骨干培训班",
                  "江苏省城乡社区治理专题培训"]
TRAININGS_TOWN = ["社区工作者业务培训", "基层党务实务培训", "社会工作专业能力培训"]
TRAININGS_STREET = ["街道社区工作者轮训", "网格化管理培训"]
SERVICES = {
    "residents": ["便民理发", "义诊", "法律咨询", "家电维修"], "resident_units": ["政策宣讲进企业", "共建活动"],
    "unemployed": ["就业技能培训", "招聘信息推送"], "needy": ["上门送温暖", "代办低保手续"],
    "migrants": ["新市民积分入学咨询", "居住登记服务"],
}
PURPOSES = ["党员教育培训", "党组织活动", "困难党员慰问", "阵地维护", "志愿服务活动", "党建宣传资料", "表彰先进"]
DECISIONS = ["老旧小区改造方案", "社区停车管理办法", "公共收益使用方案", "加装电梯议事", "社区养老服务站建设",
             "垃圾分类积分制度", "小区微更新项目"]
DUTY_POSTS = ["政策宣传岗", "环境卫生监督岗", "治安巡逻岗", "邻里调解岗", "文明劝导岗", "关爱帮扶岗"]
VOLUNTEER = ["社区巡逻", "垃圾分类宣传", "关爱空巢老人", "文明交通劝导", "义务理发", "四点半课堂"]
COMMITMENTS = ["每月参加一次志愿服务", "联系帮扶一户困难家庭", "带头做好垃圾分类", "参与楼道自治", "调解邻里矛盾"]
LEADERS = ["王建华", "陈志强", "顾晓东", "沈国平", "朱丽萍", "陆振宇", "周海燕", "钱文斌", "徐卫民", "张秀英"]
LEADER_POSTS = ["市委常委、组织部部长", "市委组织部副部长", "市民政局局长", "市人大常委会副主任", "区镇党委书记"]
ENTRY_ITEMS = [("人口普查入户登记", "昆山市统计局"), ("居民医保参保动员", "昆山市医疗保障局"),
               ("垃圾分类督导", "昆山市城市管理局"), ("退役军人服务站", "昆山市退役军人事务局"),
               ("新时代文明实践站", "市委宣传部"), ("网格化社会治理", "市委政法委"), ("社区矫正协助", "昆山市司法局"),
               ("老年人助餐服务", "昆山市民政局"), ("消防安全网格", "昆山市消防救援大队"),
               ("计生协会工作", "昆山市卫生健康委员会"), ("反诈宣传", "昆山市公安局"), ("食品安全协管", "昆山市市场监督管理局")]

class _City:
    """One city of the demo: its area code (the first six digits of its people's ID numbers and of
    its community codes), names and towns.  The texts of Kunshan's reference lists (work units,
    trainings, departments) are re-worded for the other cities."""

    def __init__(self, area, name, short, abbr, prefecture, towns, streets=None, split=(), direct=()):
        self.area, self.name, self.short, self.abbr, self.prefecture = area, name, short, abbr, prefecture
        self.towns = towns  # [(name, code, weight, rural)]
        self.streets = streets or {}  # town -> its streets (街道 under a zone or town)
        self.split = split  # towns funded half by the city, half by the town
        self.direct = direct  # towns with streets where some communities are directly under the town

        def local(text):
            return text.replace("昆山市", name).replace("昆山", short).replace("苏州市", prefecture)

        level = name[-1]  # 市 or 区: 市委宣传部, 区委宣传部
        self.units = [local(u) for u in IN_SERVICE_UNITS]
        self.trainings = [local(t) for t in TRAININGS_CITY]
        self.entry_items = [(n, local(d).replace("市委", level + "委")) for n, d in ENTRY_ITEMS]
        self.leader_posts = [level + p[1:] if p.startswith("市") else p for p in LEADER_POSTS]


KUNSHAN = _City("320583", "昆山市", "昆山", "昆组", "苏州市", TOWNS, STREETS, SPLIT_TOWNS, ("玉山镇",))

# The province: ten county-level cities and districts of Jiangsu, each the size of the city demo
# (Kunshan first, so the province's first city is the city demo itself).  Town codes follow the
# 统计用区划代码 pattern: 街道 0xx, 镇 1xx, development zones 4xx.
CITIES = [
    KUNSHAN,
    _City("320582", "张家港市", "张家港", "张组", "苏州市", [
        ("杨舍镇", "320582100", 50, False), ("塘桥镇", "320582101", 30, False), ("金港街道", "320582001", 35, False),
        ("锦丰镇", "320582103", 30, False), ("乐余镇", "320582104", 22, True), ("凤凰镇", "320582105", 22, True),
        ("南丰镇", "320582106", 18, True), ("大新镇", "320582107", 16, True),
        ("张家港经济技术开发区", "320582400", 45, False), ("张家港保税区", "320582401", 30, False),
        ("张家港冶金工业园", "320582402", 20, False), ("常阴沙现代农业示范园区", "320582403", 12, True),
        ("双山香山旅游度假区", "320582404", 10, True)]),
    _City("320581", "常熟市", "常熟", "常组", "苏州市", [
        ("虞山街道", "320581001", 45, False), ("琴川街道", "320581002", 35, False), ("莫城街道", "320581003", 25, False),
        ("常福街道", "320581004", 25, False), ("碧溪街道", "320581005", 22, False), ("东南街道", "320581006", 28, False),
        ("梅李镇", "320581101", 25, True), ("海虞镇", "320581102", 25, True), ("古里镇", "320581103", 25, True),
        ("沙家浜镇", "320581104", 20, True), ("支塘镇", "320581105", 22, True), ("董浜镇", "320581106", 16, True),
        ("辛庄镇", "320581107", 22, True), ("尚湖镇", "320581108", 15, True)]),
    _City("320585", "太仓市", "太仓", "太组", "苏州市", [
        ("城厢镇", "320585100", 45, False), ("娄东街道", "320585001", 45, False), ("陆渡街道", "320585002", 30, False),
        ("沙溪镇", "320585101", 30, True), ("浏河镇", "320585102", 30, True), ("浮桥镇", "320585103", 30, True),
        ("璜泾镇", "320585104", 25, True), ("双凤镇", "320585105", 22, True),
        ("太仓港经济技术开发区", "320585400", 35, False), ("太仓高新区", "320585401", 40, False),
        ("太仓科教新城", "320585402", 25, False)]),
    _City("320506", "吴中区", "吴中", "吴中组", "苏州市", [
        ("长桥街道", "320506001", 30, False), ("郭巷街道", "320506002", 30, False), ("横泾街道", "320506003", 18, False),
        ("香山街道", "320506004", 18, False), ("越溪街道", "320506005", 25, False), ("城南街道", "320506006", 30, False),
        ("太湖街道", "320506007", 25, False), ("木渎镇", "320506100", 45, False), ("甪直镇", "320506101", 30, True),
        ("胥口镇", "320506102", 20, True), ("东山镇", "320506103", 22, True), ("光福镇", "320506104", 22, True),
        ("临湖镇", "320506105", 20, True), ("金庭镇", "320506106", 12, True)]),
    _City("320509", "吴江区", "吴江", "吴江组", "苏州市", [
        ("松陵街道", "320509001", 45, False), ("江陵街道", "320509002", 30, False), ("横扇街道", "320509003", 18, False),
        ("八坼街道", "320509004", 18, False), ("盛泽镇", "320509103", 55, False), ("黎里镇", "320509107", 40, True),
        ("平望镇", "320509102", 30, True), ("同里镇", "320509101", 25, True), ("震泽镇", "320509105", 25, True),
        ("七都镇", "320509104", 20, True), ("桃源镇", "320509106", 20, True)]),
    _City("320507", "相城区", "相城", "相城组", "苏州市", [
        ("元和街道", "320507001", 40, False), ("太平街道", "320507002", 22, False), ("黄桥街道", "320507003", 28, False),
        ("北河泾街道", "320507004", 25, False), ("澄阳街道", "320507005", 25, False), ("漕湖街道", "320507006", 20, False),
        ("北桥街道", "320507007", 22, False), ("相城高铁新城", "320507400", 30, False), ("黄埭镇", "320507101", 35, True),
        ("阳澄湖镇", "320507103", 30, True), ("望亭镇", "320507100", 25, True), ("渭塘镇", "320507102", 25, True)]),
    _City("320281", "江阴市", "江阴", "澄组", "无锡市", [
        ("澄江街道", "320281001", 50, False), ("南闸街道", "320281002", 20, False), ("云亭街道", "320281003", 22, False),
        ("申港街道", "320281004", 15, False), ("夏港街道", "320281005", 18, False), ("利港街道", "320281006", 16, False),
        ("华士镇", "320281104", 30, True), ("青阳镇", "320281102", 25, True), ("徐霞客镇", "320281103", 25, True),
        ("璜土镇", "320281100", 22, True), ("月城镇", "320281101", 18, True), ("长泾镇", "320281106", 20, True),
        ("顾山镇", "320281107", 20, True), ("祝塘镇", "320281108", 18, True), ("新桥镇", "320281105", 15, True)]),
    _City("320282", "宜兴市", "宜兴", "宜组", "无锡市", [
        ("宜城街道", "320282001", 45, False), ("屺亭街道", "320282002", 22, False), ("新街街道", "320282003", 25, False),
        ("新庄街道", "320282004", 18, False), ("丁蜀镇", "320282100", 40, False), ("和桥镇", "320282107", 28, True),
        ("张渚镇", "320282101", 25, True), ("官林镇", "320282105", 25, True), ("徐舍镇", "320282104", 22, True),
        ("高塍镇", "320282108", 18, True), ("周铁镇", "320282109", 18, True), ("西渚镇", "320282102", 15, True),
        ("杨巷镇", "320282106", 15, True), ("太华镇", "320282103", 12, True)]),
    _City("320481", "溧阳市", "溧阳", "溧组", "常州市", [
        ("溧城街道", "320481001", 50, False), ("昆仑街道", "320481003", 35, False), ("古县街道", "320481002", 25, False),
        ("天目湖镇", "320481103", 30, False), ("别桥镇", "320481104", 25, True), ("南渡镇", "320481107", 25, True),
        ("社渚镇", "320481108", 25, True), ("埭头镇", "320481100", 22, True), ("戴埠镇", "320481102", 22, True),
        ("上兴镇", "320481105", 22, True), ("竹箦镇", "320481106", 22, True), ("上黄镇", "320481101", 20, True)]),
]


MEETING_ABBR = {t: t[:3].upper() for t in TOPICS}
EXCELLENT, QUALIFIED = "excellent", "qualified"
FEN = Decimal("0.01")
CHUNK = 50_000

COMMUNITY_FAULTS = (
    "no_college_grad", "no_backup", "orglife_skip_assembly", "orglife_skip_committee", "orglife_skip_group",
    "orglife_skip_lecture", "eval_missing_meeting", "eval_missing_results", "eval_excellent_high", "opinion_skip",
    "reception_gaps", "visit_gaps", "schedule_late", "schedule_missing", "demand_late", "demand_open",
    "affairs_skip", "funding_short", "funding_unpublished", "four_two_bad", "immobile_skip", "floating_out_skip",
    "secretary_changed",
)
STRUCTURE_FAULTS = ("committee_no_approval", "top_oversized_kind", "big_branch", "tiny_branch")
FAULT_SHARE = 0.08
ATTENDING = ("resident", "floating_in")
CHANGE_NOTES = {("resident", "floating_out"): "外出务工，持流动党员活动证",
                ("floating_out", "resident"): "返回居住地",
                ("in_service", "resident"): "退休后组织关系转回社区",
                ("resident", "in_service"): "入职机关事业单位，双重管理"}  # the classes with attendance rows at their organization's meetings


# ====================================================================== small helpers

def _months(a: dt.date, b: dt.date):
    """(year, month) from a's month to b's month inclusive."""
    y, m = a.year, a.month
    while (y, m) <= (b.year, b.month):
        yield y, m
        m += 1
        if m == 13:
            y, m = y + 1, 1


def _month_end(y: int, m: int) -> dt.date:
    return (dt.date(y + (m == 12), m % 12 + 1, 1)) - dt.timedelta(days=1)


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    n = y * 12 + (m - 1) + k
    return n // 12, n % 12 + 1


def _add_months_date(d: dt.date, k: int) -> dt.date:
    y, m = _add_months(d.year, d.month, k)
    return dt.date(y, m, 1)


def _round_fen(x) -> Decimal:
    return Decimal(x).quantize(FEN, rounding=ROUND_HALF_UP)


def _band(income: Decimal, bands) -> Decimal:
    for upper, rate in bands:
        if upper == -1 or income <= Decimal(str(upper)):
            return Decimal(str(rate))
    return Decimal(str(bands[-1][1]))


def _dues_rates():
    try:
        from core import config

        sec = config.get().section("dues")
    except Exception:
        sec = {}
    return {
        "employed": sec.get("employed", [[3000, 0.005], [5000, 0.01], [10000, 0.015], [-1, 0.02]]),
        "retired": sec.get("retired", [[5000, 0.005], [-1, 0.01]]),
        "fixed": {k: Decimal(str(sec.get(k, "0.20"))) for k in ("student", "unemployed", "farmer", "other")},
    }


DEMO_TABLES_SKIPPED = ("check_run", "stored_finding", "stored_count", "user", "audit_log")


@contextlib.contextmanager
def _pg_bulk_load(say):
    """PostgreSQL: the whole build is one transaction, in which the foreign keys and the secondary
    indexes of the tables the demo writes are dropped for the load and made again at the end
    (validated in one pass each, instead of a trigger and an index update per row: COPY into
    attendance goes ~5x faster).  Whatever stops the build rolls all of it back, keys and indexes
    included, so the schema never stays without them.  SQLite: nothing (its build turns the
    foreign-key checks off for the connection instead)."""
    if not is_postgres():
        yield
        return
    tables = [f'"{m._meta.table_name}"' for m in models.CORE_MODELS
              if m._meta.table_name not in DEMO_TABLES_SKIPPED]
    with write_tx():
        keys = database.execute_sql(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2", (tables,)).fetchall()
        indexes = database.execute_sql(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
            "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
            (tables,)).fetchall()
        for table, name, _definition in keys:
            database.execute_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            database.execute_sql(f"DROP INDEX {name}")
        yield
        say(tr("演示数据：索引与外键", "demo: indexes and foreign keys"))
        database.execute_sql("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            database.execute_sql(definition)
        for table, name, definition in keys:
            database.execute_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        refresh_statistics(t.strip('"') for t in tables)  # a check run right after is planned on real counts


@contextlib.contextmanager
def _foreign_keys_off():
    """SQLite: foreign-key checks off for the build's connection (rows are consistent by
    construction; the checks cost ~20 % of the bulk insert)."""
    off = is_sqlite() and not database.in_transaction()
    if off:
        database.execute_sql("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if off:
            database.execute_sql("PRAGMA foreign_keys=ON")


class _Rng(random.Random):
    """``random.Random`` with faster (and still seeded, deterministic) randint/randrange/choice."""

    def randint(self, a, b):
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start, stop=None, step=1):
        if stop is None:
            start, stop = 0, start
        n = (stop - start + step - 1) // step
        return start + step * int(self.random() * n)

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]


class _Person:
    """A Party member being generated (党员)."""
    __slots__ = ("id", "comm", "name", "sex", "birth", "idn", "joined", "full", "cls", "retired", "impaired",
                 "registered", "placed", "cert_no", "contact", "edu", "phone", "unit", "dues_class", "income",
                 "org", "active", "left", "segs", "absent_from", "drift", "dues_prof", "dues_lapse",
                 "is_worker", "due", "transfer", "changes", "cert_issue")

    def __init__(self):
        self.impaired = self.retired = self.is_worker = False
        self.registered = self.placed = self.cert_no = self.contact = self.unit = self.left = None
        self.full = self.income = self.org = self.absent_from = self.drift = self.dues_lapse = None
        self.active = True
        self.segs = []
        self.dues_prof = "normal"
        self.transfer = self.cert_issue = None
        self.changes = ()  # class changes [(date, old class, new class)], oldest first; cls is the latest

    def relationship(self) -> bool:
        return self.cls in ("resident", "floating_out")

    def cls_at(self, d: dt.date) -> str:
        """The management class in force on ``d`` (a change dated D applies from D)."""
        if not self.changes:
            return self.cls
        cls = self.changes[0][1]
        for day, _old, new in self.changes:
            if day <= d:
                cls = new
        return cls

    def relationship_at(self, d: dt.date) -> bool:
        return self.cls_at(d) in ("resident", "floating_out")

    def formal_at(self, d: dt.date) -> bool:
        return self.full is not None and self.full <= d

    def on_roster(self, d: dt.date) -> bool:
        return self.joined <= d and (self.active or (self.left is not None and self.left > d))


class _Worker:
    __slots__ = ("id", "comm", "idn", "name", "sex", "birth", "edu", "cert", "cert_date", "hired", "college",
                 "backup", "filing", "election", "status", "exit_reason", "phone", "posts", "member", "role",
                 "faults")

    def __init__(self):
        self.college = self.backup = False
        self.filing = self.election = self.exit_reason = self.member = self.cert_date = None
        self.cert = "none"
        self.status = "active"
        self.posts = []  # [post, start, end]
        self.faults = []


class _Org:
    __slots__ = ("id", "code", "name", "kind", "parent", "comm", "host", "founded", "approval", "groups",
                 "roster", "committee", "faults", "skip")

    def __init__(self):
        self.groups = []
        self.roster = []  # [(person, start, end, attends)]: on the roll from start to end (exclusive)
        self.committee = []
        self.faults = []
        self.parent = None
        self.approval = None
        self.host = "community"


class _Comm:
    __slots__ = ("id", "code", "name", "town", "street", "persons", "workers", "top", "orgs", "branches",
                 "faults", "top_kind", "committees", "secretaries", "units", "n_formal")

    def __init__(self):
        self.persons = []
        self.workers = []
        self.orgs = []
        self.branches = []
        self.faults = []
        self.committees = []
        self.secretaries = []  # [(start, end, worker)]
        self.units = []


# ====================================================================== the generator

class _Generator:
    """One city: planned whole in memory (people, organizations, moves), then written community by
    community.  ``city``: whose towns and area code (Kunshan by default); ``counts``: (communities,
    members, workers) instead of the size's counts times ``scale``; ``prev``: the generator of the
    city written before this one in the same database (its ids, row buffers and counts go on)."""

    def __init__(self, size, seed, today, progress, scale, *, city=None, counts=None, prev=None):
        self.size = size
        self.city = city or KUNSHAN
        self.rng = _Rng(seed)
        self.T = today
        self.Y = today.year
        self.W0 = dt.date(self.Y - 1, 1, 1)
        self.progress = progress
        if counts is None:
            spec = SIZES[size]
            counts = [round(spec[k] * scale) for k in ("communities", "members", "workers")]
        self.n_comm = max(1, counts[0])
        self.n_members = max(30 * self.n_comm, counts[1])
        self.n_workers = max(6 * self.n_comm, counts[2])
        self.bar = None  # (communities written before this city, communities in all, city number, cities)
        if prev is None:
            self.ids = {}
            self.counts = {}
            self.buf = {}
            self.sql = {}
            self.issued = set()
            self.started = time.monotonic()
        else:
            self.ids, self.counts, self.started = prev.ids, prev.counts, prev.started
            self.buf, self.sql = prev.buf, prev.sql
            # the ID numbers of the cities written before, with other area codes, stay taken
            self.issued = {n for n in prev.issued if not n.startswith(prev.city.area)}
        self.order = {m: i for i, m in enumerate(models.CORE_MODELS)}
        self.id_heads = {}
        self.name_ini = {}
        self.rates = _dues_rates()
        self.persons = []
        self.workers = []
        self.comms = []
        self.towns = []
        self.month_list = list(_months(self.W0, self.T))
        self.month_index = {ym: i for i, ym in enumerate(self.month_list)}
        self.ended_months = {ym for ym in self.month_list if _month_end(*ym) < self.T}
        # (y, m) -> ["YYYY-MM", "YYYY-MM-01", …, "YYYY-MM-28"] for the dues loop
        self.day_strings = {(y, m): [f"{y:04d}-{m:02d}"] + [f"{y:04d}-{m:02d}-{d:02d}" for d in range(1, 29)]
                            for (y, m) in _months(self.W0, _add_months_date(self.T, 2))}

    # ------------------------------------------------------------------ plumbing
    def nid(self, model) -> int:
        n = self.ids.get(model, 0) + 1
        self.ids[model] = n
        return n

    def table(self, model, cols) -> list:
        """The row buffer of ``model`` (its table and columns noted on first use)."""
        if model not in self.sql:
            meta = model._meta
            self.sql[model] = (meta.table_name, [meta.fields[c].column_name for c in cols])
            self.buf[model] = []
        return self.buf[model]

    def add(self, model, cols, row):
        """Queue a row (explicit id first) for ``model``; flush in CORE_MODELS order."""
        b = self.buf[model] if model in self.sql else self.table(model, cols)
        b.append(row)
        if len(b) >= CHUNK:
            self.flush(upto=model)

    def flush(self, upto=None):
        limit = self.order[upto] if upto is not None else len(self.order)
        for model in models.CORE_MODELS:
            if self.order[model] > limit:
                break
            rows = self.buf.get(model)
            if rows:
                copy_in(*self.sql[model], rows)  # COPY on PostgreSQL, executemany on SQLite
                self.counts[model] = self.counts.get(model, 0) + len(rows)
                rows.clear()  # in place: the hot loops hold a reference to the buffer

    def say(self, text):
        if self.progress:
            # \x1b[K clears what a longer line before it left on the terminal's line
            print(f"\r{text} ({time.monotonic() - self.started:.0f}s)\x1b[K", end="", file=sys.stderr, flush=True)

    def say_communities(self, i: int):
        """Progress after ``i`` of this city's communities; in a province, a bar over all of them."""
        n = len(self.comms)
        if self.bar is None:
            self.say(tr("演示数据：社区 {i}/{n}", "demo: community {i}/{n}", i=i, n=n))
            return
        before, total, k, cities = self.bar
        done = (before + i) / total
        width = 24
        full = int(done * width)
        bar = f"[{'#' * full}{'-' * (width - full)}] {done * 100:3.0f}%"
        self.say(tr("演示数据：{bar} 城市 {k}/{m} {c}，社区 {i}/{n}", "demo: {bar} city {k}/{m} {c}, community {i}/{n}",
                    bar=bar, k=k, m=cities, c=self.city.name, i=i, n=n))

    def rdate(self, a: dt.date, b: dt.date) -> dt.date:
        """A day in [a, b] (a when the range is empty), never after today."""
        if b <= a:
            return min(a, self.T)
        return min(a + dt.timedelta(days=self.rng.randint(0, (b - a).days)), self.T)

    def sample(self, items, share, at_least=1):
        items = list(items)
        if not items:
            return []
        k = min(len(items), max(at_least, round(share * len(items))))
        return self.rng.sample(items, k)

    def ini(self, name):
        v = self.name_ini.get(name)
        if v is None:
            v = self.name_ini[name] = _initials(name)
        return v

    def name(self, sex):
        r = self.rng
        s = r.choice(SURNAMES)
        pool = MALE_CHARS if sex == "M" else FEMALE_CHARS
        if r.random() < 0.72:
            return s + r.choice(pool) + r.choice(pool)
        return s + r.choice(pool)

    def idn(self, birth, sex, area=None):
        r = self.rng
        area = area or self.city.area
        while True:
            seq = r.randrange(0, 1000)
            if (seq % 2 == 1) != (sex == "M"):
                seq = (seq + 1) % 1000
            n = self.make_id(area, birth, seq)
            if n not in self.issued:
                self.issued.add(n)
                return n

    def make_id(self, area: str, birth: dt.date, seq: int) -> str:
        """``core.ids.make`` with the weighted sums of area and birth date cached (same result)."""
        ymd = f"{birth.year:04d}{birth.month:02d}{birth.day:02d}"
        key = (area, ymd)
        head = self.id_heads.get(key)
        if head is None:
            head = self.id_heads[key] = sum(int(d) * w for d, w in zip(area + ymd, idnum.WEIGHTS))
        s3 = f"{seq:03d}"
        total = head + int(s3[0]) * idnum.WEIGHTS[14] + int(s3[1]) * idnum.WEIGHTS[15] + int(s3[2]) * idnum.WEIGHTS[16]
        return f"{area}{ymd}{s3}{idnum.CHECK_CHARS[total % 11]}"

    def phone(self):
        return self.rng.choice(PHONE_HEADS) + f"{self.rng.randrange(10**8):08d}"

    def birth_for_age(self, lo, hi):
        age = self.rng.randint(lo, hi)
        b = dt.date(self.T.year - age, 1, 1) - dt.timedelta(days=self.rng.randint(0, 364))
        return b

    def edu_for_age(self, age):
        r = self.rng.random()
        if age >= 70:
            table = [(0.5, "middle_or_below"), (0.75, "high_school"), (0.85, "vocational"), (0.95, "college"),
                     (1.0, "bachelor")]
        elif age >= 50:
            table = [(0.25, "middle_or_below"), (0.55, "high_school"), (0.7, "vocational"), (0.88, "college"),
                     (0.98, "bachelor"), (1.0, "postgraduate")]
        else:
            table = [(0.05, "middle_or_below"), (0.15, "high_school"), (0.25, "vocational"), (0.55, "college"),
                     (0.93, "bachelor"), (1.0, "postgraduate")]
        for p, code in table:
            if r < p:
                return code
        return "bachelor"

    def company(self):
        r = self.rng
        return f"{self.city.short}{r.choice(COMPANY_A)}{r.choice(COMPANY_A)}{r.choice(COMPANY_B)}有限公司"

    # ------------------------------------------------------------------ run
    def run(self):
        self.say(tr("演示数据：生成人员与组织", "demo: planning people and organizations"))
        self.plan()
        with _foreign_keys_off():
            self.emit_all()

    def emit_all(self):
        self.emit_city()
        self.emit_roster()
        self.finish()

    def emit_city(self):
        """The city's structure and people, then its communities' records, 10 communities a transaction."""
        with write_tx():
            self.say(tr("演示数据：组织与人员", "demo: organizations and people"))
            self.emit_structure()
            self.flush()
        batch = 10 if self.size == "city" else len(self.comms)
        for start in range(0, len(self.comms), batch):
            with write_tx():
                for c in self.comms[start:start + batch]:
                    self.emit_community(c)
                self.flush()
            self.say_communities(min(start + batch, len(self.comms)))

    def emit_roster(self):
        """The roster's spans of this city's members (derived from the members, transfers and class
        changes by ``core.roster_replay``), by the bulk path."""
        if not self.persons:
            return
        with write_tx():
            self.say(tr("演示数据：党员名册历史", "demo: the roster's history"))
            first, last = min(p.id for p in self.persons), max(p.id for p in self.persons)
            rows = roster_replay.range_rows(database, first, last)
            copy_in("roster_period", ("member_id", "start", "end", "organization", "community", "management_class"),
                    rows)
            self.counts[models.RosterPeriod] = self.counts.get(models.RosterPeriod, 0) + len(rows)

    def release(self):
        """Drop the city's plan (the next city reuses the ids, buffers and counts, not the people)."""
        self.persons, self.workers, self.comms, self.towns = [], [], [], []
        self.id_heads, self.name_ini = {}, {}

    def finish(self):
        """Sequences past the explicit ids (PostgreSQL)."""
        if is_postgres():
            with write_tx():
                for model in self.counts:
                    if model is models.RosterPeriod:
                        continue
                    t = model._meta.table_name
                    database.execute_sql(
                        f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM \"{t}\"))")

    def summary(self) -> dict:
        c = self.counts
        return {
            tr("区镇", "towns"): c.get(models.Town, 0),
            tr("社区", "communities"): c.get(models.Community, 0),
            tr("党组织", "organizations"): c.get(models.Organization, 0),
            tr("党员", "members"): c.get(models.Member, 0),
            tr("工作者", "workers"): c.get(models.Worker, 0),
            tr("会议", "meetings"): c.get(models.Meeting, 0),
            tr("出勤", "attendance"): c.get(models.Attendance, 0),
            tr("党费", "dues"): c.get(models.DuesPayment, 0),
            tr("接访走访", "visits"): c.get(models.Visit, 0),
        }

    # ================================================================== planning
    def plan(self):
        r = self.rng
        # towns and communities
        city = self.city
        if self.size == "small":
            towns = [t for t in city.towns if t[0] == "玉山镇"]
        else:
            towns = city.towns[:min(len(city.towns), self.n_comm)]
        weights = [t[2] for t in towns]
        per_town = [1] * len(towns)
        rest = self.n_comm - len(towns)
        total_w = sum(weights)
        for i, w in enumerate(weights):
            per_town[i] += int(rest * w / total_w)
        i = 0
        while sum(per_town) < self.n_comm:
            per_town[i % len(towns)] += 1
            i += 1
        names = [a + b for a in NAME_A for b in NAME_B]
        r.shuffle(names)
        k = 0
        for ti, (tname, tcode, _w, rural) in enumerate(towns):
            town = {"id": self.nid(models.Town), "name": tname, "code": tcode, "rural": rural, "streets": []}
            for sname in city.streets.get(tname, []):
                town["streets"].append((self.nid(models.Street), sname))
            self.towns.append(town)
            for j in range(per_town[ti]):
                c = _Comm()
                c.id = self.nid(models.Community)
                c.code = f"{tcode}{j + 1:03d}"
                base = names[k % len(names)]
                c.name = f"{base}社区" if k < len(names) else f"{base}{k // len(names) + 1}社区"
                k += 1
                c.town = town
                options = [sid for sid, _ in town["streets"]] + ([None] if tname in city.direct else [])
                c.street = options[j % len(options)] if options else None
                self.comms.append(c)
        # sizes
        n = len(self.comms)
        if self.size == "small" and n == 3:
            w = [150, 95, 55]
        else:
            w = [max(0.25, r.lognormvariate(0, 0.55)) for _ in range(n)]
        tw = sum(w)
        sizes = [max(30, int(self.n_members * x / tw)) for x in w]
        i = 0
        while sum(sizes) < self.n_members:
            sizes[i % n] += 1
            i += 1
        while sum(sizes) > self.n_members:
            j = i % n
            if sizes[j] > 30:
                sizes[j] -= 1
            i += 1
        wsizes = [self.n_workers // n] * n
        for j in range(self.n_workers - sum(wsizes)):
            wsizes[j % n] += 1
        for c, size, wsize in zip(self.comms, sizes, wsizes):
            self.plan_workers(c, wsize)
            self.plan_members(c, size - len([w for w in c.workers if w.member]))
        # top kinds and structure faults
        for c in self.comms:
            c.n_formal = sum(1 for p in c.persons if p.relationship() and p.formal_at(self.T))
            c.top_kind = ("committee" if c.n_formal > 100 else "general_branch" if c.n_formal > 50 else "branch")
        self.assign(STRUCTURE_FAULTS[0], [c for c in self.comms if c.top_kind == "committee"])
        self.assign(STRUCTURE_FAULTS[1], [c for c in self.comms if c.n_formal <= 100
                                          and "committee_no_approval" not in c.faults])
        self.assign(STRUCTURE_FAULTS[2], [c for c in self.comms if c.n_formal >= 60])
        self.assign(STRUCTURE_FAULTS[3], [c for c in self.comms if len(c.persons) >= 40])
        for c in self.comms:
            if "top_oversized_kind" in c.faults:
                c.top_kind = "committee" if c.n_formal > 50 else "general_branch"
        for c in self.comms:
            self.plan_orgs(c)
        self.plan_transfers()
        # community faults
        for f in COMMUNITY_FAULTS:
            if f == "orglife_skip_group":
                elig = [c for c in self.comms if any(b.groups for b in c.branches)]
            elif f == "immobile_skip":
                elig = [c for c in self.comms if any(p.impaired for p in c.persons)]
            elif f == "floating_out_skip":
                elig = [c for c in self.comms if any(p.cls == "floating_out" for p in c.persons)]
            else:
                elig = self.comms
            self.assign(f, elig)
        for c in self.comms:
            self.plan_secretary(c)
        self.plan_person_faults()
        for p in self.persons:
            # the roll of each organization, cut where the class changes: 社区党员 and placed 流入党员 attend
            cuts = [d for d, _old, _new in p.changes]
            for org, start, end in p.segs:
                s = start
                for d in cuts:
                    if s < d and (end is None or d < end):
                        org.roster.append((p, s, d, p.cls_at(s) in ATTENDING))
                        s = d
                org.roster.append((p, s, end, p.cls_at(s) in ATTENDING))

    def assign(self, fault, eligible):
        if not eligible:
            return
        share = FAULT_SHARE if len(self.comms) > 3 else 0
        for c in self.sample(eligible, share):
            c.faults.append(fault)

    # ------------------------------------------------------------------ workers
    def plan_workers(self, c: _Comm, k: int):
        r = self.rng
        one_shoulder = r.random() < 0.4
        roles = ["secretary"] + ([] if one_shoulder else ["director"]) + ["deputy_secretary"]
        roles += ["committee_member"] * (2 if k < 9 else 3)
        while len(roles) < k:
            roles.append("other")
        roles = roles[:k]
        T = self.T
        for role in roles:
            w = _Worker()
            w.id = self.nid(models.Worker)
            w.comm = c
            w.role = role
            w.sex = "M" if r.random() < (0.55 if role in ("secretary", "director") else 0.4) else "F"
            lo, hi = {"secretary": (35, 56), "director": (33, 56), "deputy_secretary": (30, 52),
                      "committee_member": (26, 50)}.get(role, (23, 55))
            w.birth = self.birth_for_age(lo, hi)
            w.name = self.name(w.sex)
            w.idn = self.idn(w.birth, w.sex)
            w.phone = self.phone()
            age = idnum.age_on(w.birth, T)
            if role == "secretary":
                w.edu = r.choices(["college", "bachelor", "postgraduate"], [40, 50, 6])[0]
            else:
                w.edu = r.choices(["high_school", "vocational", "college", "bachelor", "postgraduate"],
                                  [10, 10, 35, 40, 5])[0]
            earliest = max(w.birth + dt.timedelta(days=int(365.25 * 22)), dt.date(T.year - 20, 1, 1))
            if role in ("secretary", "director"):
                w.hired = self.rdate(earliest, max(earliest, self.W0 - dt.timedelta(days=3 * 365)))
            elif r.random() < 0.1:
                w.hired = self.rdate(self.W0, T - dt.timedelta(days=40))
            else:
                w.hired = self.rdate(earliest, max(earliest, self.W0 - dt.timedelta(days=60)))
            # certificate: most young workers hold one; the rest of the story is in plan_person_faults
            if r.random() < (0.92 if age <= 45 else 0.5):
                w.cert = r.choices(["assistant", "social_worker", "senior"], [55, 38, 7])[0]
                w.cert_date = self.rdate(max(w.hired, dt.date(2010, 6, 1)), max(w.hired, self.W0 - dt.timedelta(days=30)))
                if w.cert_date < w.hired:
                    w.cert_date = w.hired
            if role in ("secretary", "director"):
                w.election = r.choices(["open_recommendation", "no_candidate", "other"], [60, 25, 15])[0]
            term = dt.date(self.Y - 2 - r.randint(0, 4), r.randint(1, 6), r.randint(1, 28))
            start = max(w.hired, term) if w.hired < self.W0 else w.hired
            if role == "secretary":
                w.posts.append(["secretary", start, None])
                if one_shoulder:
                    w.posts.append(["director", start, None])
                w.filing = min(start + dt.timedelta(days=r.randint(10, 40)), T)
            else:
                w.posts.append([role, start, None])
            if role in ("secretary", "deputy_secretary", "committee_member") or (
                    role == "director" and r.random() < 0.6) or (role == "other" and r.random() < 0.25):
                p = self.new_person(c, "resident", worker=w)
                w.member = p
            c.workers.append(w)
            self.workers.append(w)
        # the college-graduate programme and the backup-talent pool
        # in post for both years, so the planted gaps are the only ones
        settled = [w for w in c.workers if w.role not in ("secretary", "director") and w.hired < self.W0]
        settled = settled or [w for w in c.workers if w.hired < self.W0]
        for limit in (35, 45, 200):
            young = [w for w in settled if idnum.age_on(w.birth, T) <= limit]
            if young:
                g = r.choice(young)
                g.college = True
                g.edu = r.choice(["bachelor", "bachelor", "postgraduate"])
                if g.member is not None:
                    g.member.edu = g.edu
                break
        pool = [w for w in settled if idnum.age_on(w.birth, T) <= 45] or settled
        for w in self.sample(pool, 0.2):
            w.backup = True

    def plan_secretary(self, c: _Comm):
        """Who held the secretary post when; a change of secretary where planted."""
        r, T = self.rng, self.T
        sec = next(w for w in c.workers if w.role == "secretary")
        if "no_college_grad" in c.faults:
            for w in c.workers:
                w.college = False
        if "no_backup" in c.faults:
            for w in c.workers:
                w.backup = False
        if "secretary_changed" in c.faults:
            deputy = next((w for w in c.workers if w.role == "deputy_secretary"), None)
            if deputy is not None and deputy.posts[0][1] < self.W0:
                change = self.rdate(dt.date(self.Y - 1, 5, 1), dt.date(self.Y - 1, 11, 30))
                if change < T:
                    # the successor's qualifications match, so the town's trend is decided elsewhere
                    deputy.cert = sec.cert
                    deputy.cert_date = self.rdate(dt.date(self.Y - 6, 1, 1), self.W0) if sec.cert != "none" else None
                    deputy.edu = sec.edu
                    if deputy.member is not None:
                        deputy.member.edu = sec.edu
                    # the old secretary retired; the deputy took over
                    for p in sec.posts:
                        p[2] = change
                    sec.status, sec.exit_reason = "exited", "退休"
                    deputy.posts[0][2] = change
                    deputy.posts.append(["secretary", change, None])
                    deputy.filing = change + dt.timedelta(days=r.randint(10, 30))
                    deputy.role = "secretary"
                    deputy.election = "open_recommendation"
                    c.secretaries = [(dt.date(1990, 1, 1), change, sec), (change, None, deputy)]
                    return
        c.secretaries = [(dt.date(1990, 1, 1), None, sec)]

    def secretary_at(self, c: _Comm, d: dt.date):
        for start, end, w in c.secretaries:
            if start <= d and (end is None or d < end):
                return w
        return c.secretaries[-1][2]

    # ------------------------------------------------------------------ members
    def new_person(self, c: _Comm, cls: str, worker: _Worker | None = None) -> _Person:
        r, T = self.rng, self.T
        p = _Person()
        p.id = self.nid(models.Member)
        p.comm = c
        p.cls = cls
        if worker is not None:
            p.is_worker = True
            p.name, p.sex, p.birth, p.idn, p.phone = worker.name, worker.sex, worker.birth, worker.idn, worker.phone
            p.edu = worker.edu
            age = idnum.age_on(p.birth, T)
            p.joined = self.rdate(p.birth + dt.timedelta(days=int(365.25 * 21)),
                                  max(p.birth + dt.timedelta(days=int(365.25 * 21)), T - dt.timedelta(days=3 * 365)))
            p.full = p.joined + dt.timedelta(days=365)
            p.dues_class = "employed"
            p.income = Decimal(r.randrange(5000, 12000, 100))
            p.unit = f"{c.name}居委会"
        else:
            new = cls == "resident" and r.random() < 0.035
            if new:
                age = r.randint(23, 35)
            elif cls == "resident":
                age = r.randint(60, 88) if r.random() < 0.5 else r.randint(22, 59)
                if age >= 76 and r.random() < 0.4:
                    age = r.randint(60, 75)
            elif cls == "in_service":
                age = r.randint(25, 58)
            else:
                age = r.randint(22, 50)
            p.sex = "M" if r.random() < 0.62 else "F"
            p.birth = dt.date(T.year - age, 1, 1) - dt.timedelta(days=r.randint(0, 364))
            age = idnum.age_on(p.birth, T)
            area = self.city.area if (cls != "floating_in" and r.random() < 0.85) else r.choice(OTHER_AREAS)
            p.name = self.name(p.sex)
            p.idn = self.idn(p.birth, p.sex, area)
            p.phone = self.phone()
            p.edu = self.edu_for_age(age)
            if new:
                p.joined = self.rdate(self.W0, T - dt.timedelta(days=10))
                f = p.joined + dt.timedelta(days=365)
                p.full = f if f <= T else None
            else:
                lo = p.birth + dt.timedelta(days=int(365.25 * 18))
                hi = min(p.birth + dt.timedelta(days=int(365.25 * 45)), self.W0 - dt.timedelta(days=400))
                p.joined = self.rdate(lo, max(lo, hi))
                if p.joined > self.W0 - dt.timedelta(days=366):
                    p.joined = self.W0 - dt.timedelta(days=400)
                p.full = p.joined + dt.timedelta(days=365)
            p.retired = age >= 60 or (p.sex == "F" and age >= 55 and r.random() < 0.7)
            if p.retired:
                p.dues_class = "retired"
                p.income = Decimal(r.randrange(2200, 8000, 10))
                p.impaired = cls == "resident" and age >= 72 and r.random() < 0.1
            elif age <= 24 and r.random() < 0.4:
                p.dues_class, p.unit = "student", "苏州大学"
            elif r.random() < 0.03:
                p.dues_class = "unemployed"
            elif c.town["rural"] and age >= 40 and r.random() < 0.25:
                p.dues_class = "farmer"
            else:
                p.dues_class = "employed"
                x = r.random()
                p.income = (Decimal(3000) if x < 0.03 else Decimal(5000) if x < 0.05
                            else Decimal(r.randrange(2600, 16000, 10)))
                p.unit = r.choice(self.city.units) if cls == "in_service" else self.company()
            if cls == "in_service":
                p.registered = self.rdate(p.joined, self.W0 - dt.timedelta(days=30))
            elif cls == "floating_in":
                p.registered = self.rdate(T - dt.timedelta(days=600), T - dt.timedelta(days=50))
                p.placed = p.registered + dt.timedelta(days=r.randint(3, 25))
            elif cls == "floating_out":
                p.unit = r.choice(DESTINATIONS)
        p.due = self.due_for(p)
        c.persons.append(p)
        self.persons.append(p)
        return p

    def due_for(self, p: _Person) -> Decimal:
        if p.dues_class == "employed" and p.income is not None:
            return _round_fen(p.income * _band(p.income, self.rates["employed"]))
        if p.dues_class == "retired" and p.income is not None:
            return _round_fen(p.income * _band(p.income, self.rates["retired"]))
        return self.rates["fixed"].get(p.dues_class or "other", Decimal("0.20"))

    def plan_members(self, c: _Comm, k: int):
        r = self.rng
        for _ in range(max(0, k)):
            x = r.random()
            cls = ("resident" if x < 0.75 else "in_service" if x < 0.90 else "floating_in" if x < 0.95
                   else "floating_out")
            self.new_person(c, cls)
        # contacts of floating-out members: a worker of the community
        for p in c.persons:
            if p.cls == "floating_out":
                p.contact = r.choice(c.workers).name
                p.cert_no = None  # set in plan_orgs once the org code is known

    # ------------------------------------------------------------------ organizations
    def new_org(self, c, kind, code, name, parent=None, host="community"):
        r = self.rng
        o = _Org()
        o.id = self.nid(models.Organization)
        o.code, o.name, o.kind, o.comm, o.host = code, name, kind, c, host
        o.parent = parent
        o.founded = dt.date(r.randint(1998, 2016), r.randint(1, 12), r.randint(1, 28))
        c.orgs.append(o)
        return o

    def plan_orgs(self, c: _Comm):
        r, T = self.rng, self.T
        top_names = {"committee": f"中共{c.name}委员会", "general_branch": f"中共{c.name}总支部委员会",
                     "branch": f"中共{c.name}支部委员会"}
        top = self.new_org(c, c.top_kind, f"{c.code}000", top_names[c.top_kind])
        if c.top_kind == "committee" and "committee_no_approval" not in c.faults:
            top.approval = f"{self.city.abbr}复〔{top.founded.year}〕{r.randint(3, 98)}号"
        c.top = top
        placed = [p for p in c.persons if p.cls != "floating_in" or p.placed is not None]
        r.shuffle(placed)
        # split into branches
        groups_of_people = []
        if c.top_kind == "branch":
            groups_of_people.append((top, placed))
        else:
            people = placed[:]
            if "tiny_branch" in c.faults:
                tiny = [p for p in people if p.cls == "resident" and not p.is_worker][:2]
                for p in tiny:
                    people.remove(p)
                groups_of_people.append(("tiny", tiny))
            if "big_branch" in c.faults:
                rel = [p for p in people if p.relationship() and p.formal_at(T) and not p.is_worker]
                take = rel[:56]
                for p in take:
                    people.remove(p)
                groups_of_people.append(("big", take))
            if people:
                # ordinary branches of 18-40 members: at most 50 formal members in relationship
                k = max(1, round(len(people) / r.uniform(26, 38)))
                for i in range(k):
                    groups_of_people.append(("n", people[i * len(people) // k:(i + 1) * len(people) // k]))
        n = 0
        for tag, ps in groups_of_people:
            if tag is top:
                b = top
            else:
                n += 1
                host = "non_public" if tag == "tiny" else "community"
                name = (f"{c.name}{self.company()[len(self.city.short):-4]}党支部" if tag == "tiny"
                        else f"{c.name}第{_cn(n)}党支部")
                b = self.new_org(c, "branch", f"{c.code}{n:03d}", name, parent=top, host=host)
            c.branches.append(b)
            if tag == "tiny":
                b.faults.append("tiny")
            if len(ps) >= 16 and r.random() < 0.35:
                k = max(2, min(4, len(ps) // 11))
                for gi in range(k):
                    g = self.new_org(c, "group", f"{b.code}{gi + 1:02d}", f"{b.name}第{_cn(gi + 1)}党小组", parent=b)
                    b.groups.append(g)
                for i, p in enumerate(ps):
                    p.org = b.groups[i % k]
            else:
                for p in ps:
                    p.org = b
            # the branch committee (支委): attends 支委会
            core_ = [p for p in ps if p.cls == "resident" and p.full is not None and not p.impaired]
            b.committee = core_[:min(5, max(3, len(ps) // 10))]
        for p in c.persons:
            start = max(p.joined, self.W0)
            if p.cls == "floating_in":
                start = p.placed or start
            p.segs = [[p.org, start, None]] if p.org is not None else []
            if p.cls == "floating_out":
                p.cert_no = f"LD{c.town['code'][-3:]}{p.id:06d}"

    # ------------------------------------------------------------------ transfers and class changes
    def move_date(self) -> dt.date:
        """A day of a move: March to October of this year or the last, on the 1st, on the month's
        last day or in between, between 20 days after the start of the records and 20 days before today."""
        r = self.rng
        lo, hi = self.W0 + dt.timedelta(days=20), self.T - dt.timedelta(days=20)
        for _ in range(30):
            y = self.Y - 1 if r.random() < 0.5 else self.Y
            m = r.randint(3, 10)
            x = r.random()
            d = dt.date(y, m, 1) if x < 0.25 else _month_end(y, m) if x < 0.5 else dt.date(y, m, r.randint(2, 27))
            if lo <= d <= hi:
                return d
        return self.rdate(lo, hi)

    def plan_transfers(self):
        """Transfers of every direction and class changes, dated in the middle of the year (the
        member record is today's state; the moves before it are kept as ``Transfer`` and
        ``ClassChange`` rows and in ``segs``/``changes``)."""
        r = self.rng
        at_least = 3
        committee = {id(p) for c in self.comms for b in c.branches for p in b.committee}
        movable = [p for p in self.persons if p.cls == "resident" and not p.is_worker and p.org is not None
                   and p.full is not None and p.joined < self.W0]
        r.shuffle(movable)
        n = len(movable)
        n_in, n_out, n_move = max(at_least, n // 100), max(at_least, n * 7 // 1000), max(at_least, n // 200)
        ins = movable[:n_in]
        outs = movable[n_in:n_in + n_out]
        moves = movable[n_in + n_out:n_in + n_out + n_move]
        for p in ins:
            d = self.move_date()
            p.segs[0][1] = d
            p.transfer = ("in", r.choice(OUTSIDE_ORGS), p.org, d)
        for p in outs:
            d = self.move_date()
            p.segs[0][2] = d
            p.active, p.left = False, d
            p.transfer = ("out", p.org, r.choice(OUTSIDE_ORGS), d)
        by_town: dict = {}
        for c in self.comms:
            by_town.setdefault(c.town["name"], []).append(c)

        def targets(c, exclude):
            return [b for b in c.branches if "tiny" not in b.faults and b is not exclude]

        for i, p in enumerate(moves):
            # 市内转移: to another branch of the same community, another community of the town, another town
            old = p.org
            old_branch = old.parent if old.kind == "group" else old
            options = [
                [p.comm] if targets(p.comm, old_branch) else [],
                [c for c in by_town[p.comm.town["name"]] if c is not p.comm and targets(c, None)],
                [c for c in self.comms if c.town is not p.comm.town and targets(c, None)],
            ]
            pick = options[i % 3] or options[(i + 1) % 3] or options[(i + 2) % 3]
            if not pick:
                continue
            other = r.choice(pick)
            b = r.choice(targets(other, old_branch))
            to = r.choice(b.groups) if b.groups else b
            d = self.move_date()
            p.segs[0][2] = d
            p.segs.append([to, d, None])
            if other is not p.comm:
                p.comm.persons.remove(p)
                other.persons.append(p)
            p.comm, p.org = other, to
            p.transfer = ("intra_city", old, to, d)
        # class changes (党员类别变更): today's class stays as planned, the history before it is made up
        k = max(at_least, self.n_members // 2500)
        moved = {id(p) for p in ins + outs + moves}

        def pool(cls):
            out = [p for p in self.persons if p.cls == cls and not p.is_worker and not p.impaired
                   and p.org is not None and p.full is not None and p.joined < self.W0
                   and id(p) not in moved and id(p) not in committee and not p.changes]
            r.shuffle(out)
            return out

        for p in pool("floating_out")[:k]:  # 社区党员 → 流出党员
            d = self.move_date()
            p.changes = [(d, "resident", "floating_out")]
            p.cert_issue = d
        residents = pool("resident")
        for p in residents[:k]:  # 流出党员 → 社区党员 (back home)
            p.changes = [(self.move_date(), "floating_out", "resident")]
        for p in residents[k:2 * k]:  # 在职党员 → 社区党员 (e.g. retired from the work unit)
            p.changes = [(self.move_date(), "in_service", "resident")]
        for p in residents[2 * k:3 * k]:  # 社区党员 → 流出党员 and back
            d1, d2 = sorted((self.move_date(), self.move_date()))
            if (d2 - d1).days >= 40:
                p.changes = [(d1, "resident", "floating_out"), (d2, "floating_out", "resident")]
            else:
                p.changes = [(d1, "floating_out", "resident")]
        for p in pool("in_service")[:k]:  # 社区党员 → 在职党员
            d = self.move_date()
            p.changes = [(d, "resident", "in_service")]
            p.registered = d

    # ------------------------------------------------------------------ person-level faults
    def plan_person_faults(self):
        r, T = self.rng, self.T
        subjects = [p for p in self.persons if p.segs and not p.impaired and not p.is_worker
                    and (p.cls == "resident" or p.cls == "floating_in") and p.active and not p.changes
                    and p.segs[0][1] < T - dt.timedelta(days=540)]
        lapsed = self.sample(subjects, 0.015)
        ls = set(id(p) for p in lapsed)
        for p in lapsed:
            p.absent_from = T - dt.timedelta(days=r.randint(430, 540))
        drift = self.sample([p for p in subjects if id(p) not in ls], 0.025)
        for p in drift:
            grouped = p.org.kind == "group"
            length = 120 if grouped else 180
            s = self.rdate(self.W0 + dt.timedelta(days=30), T - dt.timedelta(days=length + 45))
            p.drift = (s, s + dt.timedelta(days=length))
        # dues
        payers = [p for p in self.persons if p.relationship() and p.segs]
        old = [p for p in payers if p.joined < T - dt.timedelta(days=400) and p.active]
        lapsed_dues = self.sample([p for p in lapsed if p.relationship()], 0.5, at_least=0)
        lapsed_dues += self.sample([p for p in old if id(p) not in ls], 0.006)
        for p in lapsed_dues:
            p.dues_prof = "lapsed"
            y, m = _add_months(T.year, T.month, -r.randint(7, 13))
            p.dues_lapse = (y, m)
        normal = [p for p in payers if p.dues_prof == "normal"]
        picks = self.rng.sample(normal, len(normal))
        k1, k2, k3 = max(1, len(picks) * 3 // 100), max(1, len(picks) * 4 // 100), max(1, len(picks) * 15 // 100)
        for p in picks[:k1]:
            p.dues_prof = "arrears"
        for p in picks[k1:k1 + k2]:
            p.dues_prof = "late"
        for p in picks[k1 + k2:k1 + k2 + k3]:
            p.dues_prof = "quarterly"
        # floating members
        fin = [p for p in self.persons if p.cls == "floating_in"]
        for p in self.sample(fin, 0.06):
            p.placed = p.registered + dt.timedelta(days=r.randint(34, 70))
            if p.placed > T:
                p.placed = T
            if p.segs:
                p.segs[0][1] = max(p.segs[0][1], p.placed)
        for p in self.sample([p for p in fin if p.placed and p.placed - p.registered <= dt.timedelta(days=30)],
                             0.03):
            # registered, never placed
            p.placed = None
            p.org = None
            p.segs = []
        fout = [p for p in self.persons if p.cls == "floating_out"]
        for p in self.sample(fout, 0.04):
            p.cert_no = None
        for p in self.sample(fout, 0.03):
            p.contact = None
        # workers
        ws = [w for w in self.workers if w.status == "active"]
        young = [w for w in ws if idnum.age_on(w.birth, T) <= 45]
        for w in self.sample([w for w in young if w.cert != "none" and w.role != "secretary"], 0.08):
            w.cert, w.cert_date = "none", None
        for w in self.sample([w for w in young if w.cert == "none" and w.hired < self.W0 and w.role != "secretary"],
                             0.3):
            # certificate obtained this year: fails last year's check, passes this year's
            w.cert = "assistant"
            w.cert_date = self.rdate(dt.date(self.Y, 1, 10), max(dt.date(self.Y, 1, 10), T - dt.timedelta(days=5)))
        secs = [w for w in ws if any(p[0] == "secretary" and p[2] is None for p in w.posts)]
        stable = [w for w in secs if all(p[1] < self.W0 for p in w.posts if p[0] == "secretary")]
        for w in self.sample(secs, 0.06):
            w.filing = None
        for f, share in (("report_missing", 0.1), ("pay_low", 0.08), ("pay_missing", 0.02), ("pay_exact", 0.02)):
            for w in self.sample(secs, share):
                w.faults.append(f)
        leaders = [w for w in ws if any(p[0] in ("secretary", "director") for p in w.posts)]
        for w in self.sample(leaders, 0.12):
            w.faults.append("training_short")
        staff = [w for w in ws if w not in leaders]
        for w in self.sample(staff, 0.12):
            w.faults.append("training_short")
        # secretaries' qualifications trend (train.secretary_quals_trend): in some towns a secretary
        # obtains a certificate this year, in others nobody does
        by_town = {}
        for w in stable:
            by_town.setdefault(w.comm.town["name"], []).append(w)
        single = len(self.towns) == 1
        edu_lag = set(self.sample(sorted(by_town), 0.15)) if not single and len(by_town) > 2 else set()
        for tname, lst in by_town.items():
            lst = r.sample(lst, len(lst))
            # education is taken as constant: one secretary below 大专 keeps the town's share under 100 %
            for i, w in enumerate(lst):
                if tname in edu_lag and i == len(lst) - 1:
                    w.edu = "high_school"
                elif w.edu not in ("college", "bachelor", "postgraduate"):
                    w.edu = "college"
                if w.member is not None:
                    w.member.edu = w.edu
            # last year: one secretary obtains a certificate (the share rises)
            if lst and (single or r.random() < 0.6):
                lst[0].cert = "social_worker" if lst[0].cert == "none" else lst[0].cert
                lst[0].cert_date = self.rdate(dt.date(self.Y - 1, 2, 1), dt.date(self.Y - 1, 11, 20))
            if len(lst) < 2:
                continue
            if not single and r.random() < 0.5:
                # this year: another obtains one (pass), unless all hold one already
                lst[1].cert = "assistant" if lst[1].cert == "none" else lst[1].cert
                lst[1].cert_date = self.rdate(dt.date(self.Y, 1, 10), max(dt.date(self.Y, 1, 10),
                                                                          self.T - dt.timedelta(days=20)))
            else:
                # this year: nobody new, one still without a certificate (warn)
                lst[1].cert, lst[1].cert_date = "none", None

    # ================================================================== emission: structure
    def emit_structure(self):
        M = models
        r, T, Y = self.rng, self.T, self.Y
        for town in self.towns:
            self.add(M.Town, ("id", "version", "name"), (town["id"], 1, town["name"]))
            for sid, sname in town["streets"]:
                self.add(M.Street, ("id", "version", "town", "name"), (sid, 1, town["id"], sname))
        for c in self.comms:
            self.add(M.Community, ("id", "version", "code", "name", "town", "street"),
                     (c.id, 1, c.code, c.name, c.town["id"], c.street))
            k = 1 if len(c.persons) < 150 else r.randint(2, 3)
            for i in range(k):
                nm = f"{c.name[:-2]}居委会" if k == 1 else f"{c.name[:-2]}第{_cn(i + 1)}居委会"
                self.add(M.ResidentsCommittee, ("id", "version", "community", "name"),
                         (self.nid(M.ResidentsCommittee), 1, c.id, nm))
        cols = ("id", "version", "code", "name", "kind", "parent", "community", "host_kind", "founded", "approval_no")
        for c in self.comms:
            for o in c.orgs:  # parents come first
                self.add(M.Organization, cols, (o.id, 1, o.code, o.name, o.kind, o.parent.id if o.parent else None,
                                                c.id, o.host, o.founded, o.approval))
        mcols = ("id", "version", "id_number", "name", "initials", "sex", "birth_date", "joined_date", "full_date",
                 "organization", "community", "management_class", "retired", "mobility_impaired",
                 "registered_date", "placed_date", "certificate_no", "contact_person", "education", "phone",
                 "work_unit", "dues_class", "monthly_income", "active", "left_date")
        for p in sorted(self.persons, key=lambda p: p.id):
            self.add(M.Member, mcols, (
                p.id, 1, p.idn, p.name, self.ini(p.name), p.sex, p.birth, p.joined, p.full,
                p.org.id if p.org else None, p.comm.id, p.cls, p.retired, p.impaired, p.registered, p.placed,
                p.cert_no, p.contact, p.edu, p.phone, p.unit, p.dues_class, p.income, p.active, p.left))
        for p in sorted(self.persons, key=lambda p: p.id):
            if p.transfer:
                direction, frm, to, d = p.transfer
                code = lambda o: o.code if isinstance(o, _Org) else o  # noqa: E731
                self.add(M.Transfer, ("id", "version", "member", "direction", "from_org", "to_org", "date",
                                      "letter_no"),
                         (self.nid(M.Transfer), 1, p.id, direction, code(frm), code(to), d,
                          f"{self.city.abbr}转〔{d.year}〕{p.id % 997 + 1}号"))
            for d, old, new in p.changes:
                self.add(M.ClassChange, ("id", "version", "member", "new_class", "old_class", "date", "note"),
                         (self.nid(M.ClassChange), 1, p.id, new, old, d, CHANGE_NOTES[(old, new)]))
            if p.cls == "floating_out" and p.cert_no:
                issue = p.cert_issue or self.rdate(T - dt.timedelta(days=1500), self.W0 - dt.timedelta(days=10))
                returned = None
                if r.random() < 0.05:
                    returned = self.rdate(self.W0, T - dt.timedelta(days=5))
                self.add(M.FloatingCertificate, ("id", "version", "number", "member", "issued_by", "issue_date",
                                                 "destination", "valid_until", "returned_date"),
                         (self.nid(M.FloatingCertificate), 1, p.cert_no, p.id, p.comm.top.name, issue, p.unit,
                          issue + dt.timedelta(days=3 * 365), returned))
        # workers
        wcols = ("id", "version", "id_number", "name", "initials", "sex", "birth_date", "community", "education",
                 "certificate", "certificate_date", "hired_date", "college_graduate", "backup_talent", "filing_date",
                 "election_method", "status", "exit_reason", "phone")
        for w in self.workers:
            self.add(M.Worker, wcols, (w.id, 1, w.idn, w.name, self.ini(w.name), w.sex, w.birth, w.comm.id, w.edu,
                                       w.cert, w.cert_date, w.hired, w.college, w.backup, w.filing, w.election,
                                       w.status, w.exit_reason, w.phone))
            for post, start, end in w.posts:
                self.add(M.WorkerPost, ("id", "version", "worker", "post", "start_date", "end_date"),
                         (self.nid(M.WorkerPost), 1, w.id, post, start, end))
        wage = {y: int(round(60000 * 1.065 ** (y - 2012), -2)) for y in (Y - 3, Y - 2, Y - 1)}
        existing = {u.year for u in M.UrbanWage.select(M.UrbanWage.year)}
        base = M.UrbanWage.select(fn.MAX(M.UrbanWage.id)).scalar() or 0
        for y in (Y - 2, Y - 1):
            if y not in existing:
                self.add(M.UrbanWage, ("id", "version", "year", "amount", "source"),
                         (self.nid(M.UrbanWage) + base, 1, y, Decimal(wage[y]),
                          f"苏州市统计局《{y + 1}年统计公报》（演示数据）"))
        for w in self.workers:
            self.emit_worker_year_data(w, wage)
        # city-wide reference records
        for i, (name, dept) in enumerate(self.city.entry_items):
            self.add(M.EntryItem, ("id", "version", "name", "department", "approval_date", "funds",
                                   "meetings_per_year", "ledgers_per_year", "reports_per_year"),
                     (self.nid(M.EntryItem), 1, name, dept, self.rdate(dt.date(self.Y - 4, 1, 1), self.W0),
                      Decimal(r.randrange(0, 50000, 1000)) if r.random() < 0.6 else None,
                      r.randint(0, 6), r.randint(0, 3), r.randint(0, 12)))
        for i, c in enumerate(self.comms):
            if i % 3 == 0:
                self.add(M.LeaderContactPoint, ("id", "version", "leader_name", "leader_post", "community", "since"),
                         (self.nid(M.LeaderContactPoint), 1, LEADERS[(i // 3) % len(LEADERS)],
                          self.city.leader_posts[(i // 3) % len(LEADER_POSTS)], c.id,
                          self.rdate(dt.date(self.Y - 5, 1, 1), self.W0)))

    def emit_worker_year_data(self, w: _Worker, wage):
        M = models
        r, T = self.rng, self.T
        for year in (self.Y - 1, self.Y):
            y0, y1 = dt.date(year, 1, 1), min(dt.date(year, 12, 31), T)
            if w.hired > y1:
                continue
            held = [p for p in w.posts if p[1] <= y1 and (p[2] is None or p[2] > y0)]
            if not held:
                continue
            is_sec = any(p[0] == "secretary" for p in held)
            is_leader = any(p[0] in ("secretary", "director") for p in held)
            # pay
            floor = wage[year - 1] * 12 // 10  # 1.2 × last year's wage, exact (wages are whole hundreds)
            if is_sec:
                if "pay_missing" in w.faults and year == self.Y:
                    pay = None
                elif "pay_exact" in w.faults:
                    pay = floor
                elif "pay_low" in w.faults:
                    pay = int(floor * r.uniform(0.85, 0.97)) // 100 * 100
                else:
                    pay = int(floor * r.uniform(1.01, 1.15)) // 100 * 100 + 100
            else:
                pay = int(wage[year - 1] * r.uniform(0.7, 1.1)) // 100 * 100
            if pay is not None:
                self.add(M.WorkerPay, ("id", "version", "worker", "year", "base_pay"),
                         (self.nid(M.WorkerPay), 1, w.id, year, Decimal(pay)))
            if w.status == "exited" and not any(p[2] is None or p[2] > y1 for p in held):
                continue
            # trainings
            short = "training_short" in w.faults
            plan = []
            if is_leader:
                if short:
                    plan = [("town", 3), ("street", 2)] if r.random() < 0.5 else [("city", 3), ("street", 2)]
                else:
                    plan = [("city", r.choice([4, 5])), ("town", r.choice([3, 4]))]
            else:
                plan = [("town", r.choice([2, 3])), ("street", 2)] if short else \
                    [(r.choice(["town", "street"]), 3), ("town", r.choice([2, 3]))]
            for i, (level, days) in enumerate(plan):
                start = dt.date(year, 3 + i * 4 + r.randint(0, 2), r.randint(1, 25))
                if start > T or start < w.hired:
                    continue
                title = {"city": self.city.trainings, "town": TRAININGS_TOWN, "street": TRAININGS_STREET}[level]
                t = r.choice(title)
                if level == "town":
                    t = f"{w.comm.town['name']}{t}"
                self.add(M.Training, ("id", "version", "worker", "title", "level", "start_date", "days"),
                         (self.nid(M.Training), 1, w.id, f"{year}年{t}", level, start, Decimal(days)))
            # reports given (述职) by a secretary
            if is_sec:
                missing = r.choice(["street_committee", "members_public"]) if "report_missing" in w.faults else None
                for audience in ("street_committee", "members_public"):
                    if audience == missing:
                        continue
                    d = self.rdate(dt.date(year, 6, 1), dt.date(year, 12, 25))
                    if d > T:
                        continue
                    self.add(M.DutyReport, ("id", "version", "worker", "year", "audience", "date", "rating"),
                             (self.nid(M.DutyReport), 1, w.id, year, audience, d,
                              r.choices(["好", "较好", "一般"], [70, 25, 5])[0]))

    # ================================================================== emission: per community
    def emit_community(self, c: _Comm):
        self.emit_orglife(c)
        self.emit_dues(c)
        self.emit_visits(c)
        self.emit_publications_funding(c)
        self.emit_other(c)

    # ------------------------------------------------------------------ org life
    def meeting(self, org: _Org, mtype: str, d: dt.date, seq: int = 0) -> int:
        mid = self.nid(models.Meeting)
        code = f"{org.code}-{d.year}{d.month:02d}{d.day:02d}-{MEETING_ABBR[mtype]}{seq or ''}"
        self.add(models.Meeting, ("id", "version", "code", "organization", "type", "date", "topic"),
                 (mid, 1, code, org.id, mtype, d, self.rng.choice(TOPICS[mtype])))
        return mid

    def attend(self, mid: int, people, d: dt.date):
        """Attendance rows of 社区党员 and placed 流入党员 on the roll at ``d`` (the hot loop: inlined)."""
        A = models.Attendance
        rows = self.table(A, ("id", "version", "meeting", "member", "status", "leave_reason"))
        rnd = self.rng.random
        n = self.ids.get(A, 0)
        for p, start, end, attends in people:
            if attends and start <= d and (end is None or d < end):
                if p.impaired:
                    st, why = "leave", "行动不便"
                elif (p.absent_from is not None and d >= p.absent_from) or (
                        p.drift is not None and p.drift[0] <= d < p.drift[1]):
                    st, why = "absent", None
                else:
                    x = rnd()
                    if x < 0.035:
                        st, why = "absent", None
                    elif x < 0.095:
                        st, why = "leave", LEAVE_REASONS[int(x * 1000) % len(LEAVE_REASONS)]
                    else:
                        st, why = "present", None
                n += 1
                rows.append((n, 1, mid, p.id, st, why))
        self.ids[A] = n
        if len(rows) >= CHUNK:
            self.flush(upto=A)

    def emit_orglife(self, c: _Comm):
        r, T, Y = self.rng, self.T, self.Y
        # which branch carries each planted org-life gap
        skip_branch = {}
        for f in ("orglife_skip_assembly", "orglife_skip_committee", "orglife_skip_lecture",
                  "eval_missing_meeting", "eval_missing_results", "eval_excellent_high"):
            if f in c.faults:
                skip_branch[f] = r.choice(c.branches)
        if "orglife_skip_group" in c.faults:
            skip_branch["orglife_skip_group"] = r.choice([b for b in c.branches if b.groups])
        skip_q = {(Y - 1, 2), (Y, 1)}
        skip_m = {(Y - 1, 7), (Y, 3)}
        for b in c.branches:
            members = list(b.roster)
            for g in b.groups:
                members += g.roster
            orgs = [b] + b.groups
            committee = [(p, s, e, True) for p in b.committee for o, s, e in p.segs if o in orgs]
            quarter_dates = {}
            for (y, m) in self.month_list:
                q = (m - 1) // 3 + 1
                if (y, q) not in quarter_dates:
                    first = (q - 1) * 3 + 1
                    quarter_dates[(y, q)] = {
                        t: dt.date(y, first + r.randrange(3), r.randint(3, 27)) for t in ("assembly", "lecture")}
                for t in ("assembly", "lecture"):
                    d = quarter_dates[(y, q)][t]
                    if d.month != m or d > T:
                        continue
                    if skip_branch.get(f"orglife_skip_{t}") is b and (y, q) in skip_q:
                        continue
                    mid = self.meeting(b, t, d)
                    self.attend(mid, members, d)
                if len(members) >= 5 and len(b.committee) >= 3:
                    d = dt.date(y, m, r.randint(2, 12))
                    if d <= T and not (skip_branch.get("orglife_skip_committee") is b and (y, m) in skip_m):
                        mid = self.meeting(b, "committee_meeting", d)
                        self.attend(mid, committee, d)
                for gi, g in enumerate(b.groups):
                    d = dt.date(y, m, r.randint(8, 26))
                    if d > T:
                        continue
                    if skip_branch.get("orglife_skip_group") is b and gi == 0 and (y, m) in {(Y - 1, 5), (Y, 2)}:
                        continue
                    mid = self.meeting(g, "group_meeting", d)
                    self.attend(mid, g.roster, d)
            # democratic evaluation (民主评议) and its results
            for year in (Y - 1, Y):
                if year == Y - 1:
                    if skip_branch.get("eval_missing_meeting") is b:
                        continue
                    d = dt.date(year, 12, r.randint(3, 26))
                else:
                    if T < dt.date(Y, 11, 1) or r.random() > 0.35:
                        continue
                    d = self.rdate(dt.date(Y, 11, 1), T)
                mid = self.meeting(b, "democratic_evaluation", d)
                self.attend(mid, members, d)
                # every formal member on the branch's roll at the end of the year (or today) is graded
                end = min(dt.date(year, 12, 31), T)
                graded, seen = [], set()
                for p, s, e, _a in members:
                    if s <= end and (e is None or e > end) and p.formal_at(end) and p.id not in seen:
                        seen.add(p.id)
                        graded.append(p)
                if skip_branch.get("eval_missing_results") is b:
                    graded = graded[2:]
                high = skip_branch.get("eval_excellent_high") is b
                for p in graded:
                    if p.absent_from is not None and p.absent_from <= d:
                        res = r.choice(["basically_qualified", "unqualified"])
                    else:
                        x = r.random()
                        res = (EXCELLENT if x < (0.45 if high else 0.2) else QUALIFIED if x < 0.985
                               else "basically_qualified")
                    self.add(models.Evaluation, ("id", "version", "member", "year", "result"),
                             (self.nid(models.Evaluation), 1, p.id, year, res))
        # community meetings of the top organization
        top = c.top
        for (y, m) in self.month_list:
            q = (m - 1) // 3 + 1
            if m % 3 == 2:  # one opinion forum a quarter, in its middle month
                d = dt.date(y, m, r.randint(5, 25))
                if d <= T and not ("opinion_skip" in c.faults and (y, q) in skip_q):
                    self.meeting(top, "opinion", d)
            if m % 3 == 0:
                d = dt.date(y, m, r.randint(5, 25))
                if d <= T:
                    self.meeting(top, "joint", d)
            if r.random() < 0.35:
                d = dt.date(y, m, r.randint(5, 25))
                if d <= T:
                    self.meeting(top, r.choice(["party_mass", "briefing", "dialogue", "deputies_deliberation"]), d, 1)
            if m == 12 or (m == 6 and r.random() < 0.5):
                d = dt.date(y, m, r.randint(5, 25))
                if d <= T:
                    self.meeting(top, r.choice(["dual_statement", "deputy_inquiry"]), d, 2)

    # ------------------------------------------------------------------ dues
    def emit_dues(self, c: _Comm):
        """One row a month per member whose relationship is here (the other hot loop: values as text)."""
        r, T = self.rng, self.T
        rnd = r.random
        D = models.DuesPayment
        rows = self.table(D, ("id", "version", "member", "month", "due", "paid", "paid_date"))
        Ts = T.isoformat()
        day = self.day_strings
        for p in c.persons:
            if not p.segs or not (p.relationship() or any(old in ("resident", "floating_out")
                                                          for _d, old, _n in p.changes)):
                continue
            start = max(p.segs[0][1], p.joined)
            end = p.segs[-1][2] or T
            if p.left is not None:
                end = min(end, p.left)
            ml = self.month_list
            months = ml[self.month_index[(start.year, start.month)]:self.month_index[(end.year, end.month)] + 1]
            if p.changes:  # the months whose last day (today for this month) the relationship was here
                months = [ym for ym in months if p.relationship_at(min(_month_end(*ym), T))]
            if not months:
                continue
            due = str(p.due)
            zero = "0.00"
            n = self.ids.get(D, 0)
            special = set()
            ended = [ym for ym in months if ym in self.ended_months] if p.dues_prof != "normal" else []
            if p.dues_prof == "late" and ended:
                special = set(r.sample(ended, min(len(ended), r.randint(1, 3))))
            elif p.dues_prof == "arrears":
                this_year = [ym for ym in ended if ym[0] == self.Y] or ended
                if this_year:
                    special = set(r.sample(this_year, min(len(this_year), r.randint(1, 2))))
            qday = None
            prof = p.dues_prof
            pid = p.id
            for ym in months:
                y, m = ym
                key = day[ym][0]
                n += 1
                if prof == "normal":
                    pd = day[ym][1 + int(rnd() * 28)]
                elif prof == "lapsed" and ym >= p.dues_lapse:
                    rows.append((n, 1, pid, key, due, zero, None))
                    continue
                elif prof == "quarterly":
                    if (m - 1) % 3 == 0 or qday is None:
                        qday = day[ym][1 + int(rnd() * 20)]
                    pd = qday
                elif ym in special and prof == "late":
                    pd = day[_add_months(y, m, 1)][1 + int(rnd() * 20)]
                elif ym in special:
                    if rnd() < 0.3:
                        rows.append((n, 1, pid, key, due, str(_round_fen(p.due / 2)), day[ym][1 + int(rnd() * 28)]))
                    else:
                        rows.append((n, 1, pid, key, due, zero, None))
                    continue
                else:
                    pd = day[ym][1 + int(rnd() * 28)]
                if pd > Ts:
                    rows.append((n, 1, pid, key, due, zero, None))
                else:
                    rows.append((n, 1, pid, key, due, due, pd))
            self.ids[D] = n
            if len(rows) >= CHUNK:
                self.flush(upto=D)

    # ------------------------------------------------------------------ visits
    def emit_visits(self, c: _Comm):
        r, T, W0 = self.rng, self.T, self.W0
        V = models.Visit
        cols = ("id", "version", "community", "kind", "date", "staff", "member", "people", "demand",
                "answered_date", "closed_date", "refused_reason")
        active_workers = [w for w in c.workers if w.status == "active"] or c.workers
        monday = W0 - dt.timedelta(days=W0.weekday())
        weeks = []
        while monday <= T:
            weeks.append(monday)
            monday += dt.timedelta(days=7)
        late_left = {self.Y - 1: 1, self.Y: 1} if "demand_late" in c.faults else {}
        open_left = {self.Y - 1: 1, self.Y: 1} if "demand_open" in c.faults else {}
        for kind, fault in (("reception", "reception_gaps"), ("home_visit", "visit_gaps")):
            share = 0.2 if fault in c.faults else 0.03
            skipped = set(r.sample(range(len(weeks)), int(len(weeks) * share)))
            for i, mon in enumerate(weeks):
                if i in skipped:
                    continue
                d = mon + dt.timedelta(days=r.randint(0, 4))
                if d < W0 or d > T:
                    continue
                if kind == "reception":
                    staff = self.secretary_at(c, d) if r.random() < 0.8 else r.choice(active_workers)
                else:
                    staff = r.choice(active_workers)
                if staff.hired > d:
                    staff = self.secretary_at(c, d)
                demand, ans, closed, refused = "", None, None, None
                if r.random() < (0.4 if kind == "reception" else 0.15):
                    demand = r.choice(DEMANDS)
                    age = (T - d).days
                    if r.random() < 0.03:
                        refused = r.choice(REFUSED)
                    elif late_left.get(d.year) and age > 40 and r.random() < 0.2:
                        late_left[d.year] -= 1
                        ans = d + dt.timedelta(days=r.randint(18, 35))
                        closed = ans + dt.timedelta(days=r.randint(0, 10))
                    elif open_left.get(d.year) and age > 30 and r.random() < 0.2:
                        open_left[d.year] -= 1
                    else:
                        ans = d + dt.timedelta(days=r.randint(1, 10))
                        closed = ans + dt.timedelta(days=r.randint(0, 5)) if r.random() < 0.9 else None
                        if ans > T:
                            ans = closed = None
                        elif closed is not None and closed > T:
                            closed = None
                people = r.randint(1, 8) if kind == "reception" else r.randint(1, 3)
                self.add(V, cols, (self.nid(V), 1, c.id, kind, d, staff.id, None, people, demand, ans, closed,
                                   refused))
        # quarterly visits to members: immobile (困难党员走访) and floating-out contacts (流出党员联系)
        quarters = []
        for (y, m) in self.month_list:
            if (m - 1) % 3 == 0:
                quarters.append((y, m))
        for kind, pick in (("hardship_visit", lambda p: p.impaired and p.active),
                           ("floating_contact", lambda p: p.cls == "floating_out" and p.active)):
            targets = [p for p in c.persons if pick(p)]
            fault = "immobile_skip" if kind == "hardship_visit" else "floating_out_skip"
            skipper = r.choice(targets) if targets and fault in c.faults else None
            for p in targets:
                for (y, m) in quarters:
                    if skipper is p and (y, (m - 1) // 3 + 1) in {(self.Y - 1, 3), (self.Y, 1)}:
                        continue
                    d = dt.date(y, m + r.randint(0, 2), r.randint(1, 28))
                    if d > T:
                        continue
                    if p.changes:  # floating out since a class change: contacted from that quarter on
                        q_end, since = min(_month_end(y, m + 2), T), p.changes[-1][0]
                        if p.cls_at(q_end) != p.cls:
                            continue
                        if d < since:
                            d = since + dt.timedelta(days=(q_end - since).days // 2)
                    staff = r.choice(active_workers)
                    self.add(V, cols, (self.nid(V), 1, c.id, kind, d, staff.id, p.id, 1, "", None, None, None))
        # deputies' receptions and leaders' research visits
        for (y, m) in self.month_list:
            if r.random() < 0.5:
                d = dt.date(y, m, r.randint(1, 28))
                if d <= T:
                    self.add(V, cols, (self.nid(V), 1, c.id, "deputy_reception", d, None, None, r.randint(2, 12), "",
                                       None, None, None))
            if m in (4, 10) and c.id % 3 == 1:
                d = dt.date(y, m, r.randint(1, 28))
                if d <= T:
                    self.add(V, cols, (self.nid(V), 1, c.id, "leader_research", d, None, None, r.randint(3, 10), "",
                                       None, None, None))

    # ------------------------------------------------------------------ publications and funding
    def relationship_count(self, c: _Comm, as_of: dt.date) -> int:
        return sum(1 for p in c.persons if p.relationship_at(as_of) and p.org is not None and p.on_roster(as_of))

    def emit_publications_funding(self, c: _Comm):
        M = models
        r, T, Y = self.rng, self.T, self.Y
        pcols = ("id", "version", "community", "year", "kind", "date")

        def pub(year, kind, d):
            if d <= T:
                self.add(M.Publication, pcols, (self.nid(M.Publication), 1, c.id, year, kind, d))

        for year in (Y - 1, Y):
            # reception & visit schedule (接访走访时序), by 01-31
            if "schedule_missing" in c.faults and year == Y - 1:
                pass
            elif "schedule_late" in c.faults:
                pub(year, "visit_schedule", dt.date(year, 2, r.randint(5, 25)))
            else:
                pub(year, "visit_schedule", dt.date(year, 1, r.randint(4, 28)))
            # 党务公开 each quarter
            for q in range(1, 5):
                if "affairs_skip" in c.faults and (year, q) in {(Y - 1, 2), (Y, 1)}:
                    continue
                pub(year, "party_affairs", dt.date(year, 3 * q, r.randint(10, 28)))
            # funding (经费): allocations from the activity sources ≥ max(150 × N, 15000)
            as_of = min(dt.date(year, 12, 31), T)
            n = self.relationship_count(c, as_of)
            floor = max(150 * n, 15000)
            if "funding_short" in c.faults:
                activity = int(floor * 0.85) // 100 * 100
            else:
                activity = math.ceil((max(150 * (n + 3), 15000) * 1.03) / 1000) * 1000
            d = dt.date(year, 3, r.randint(5, 25))
            if d <= T:
                fcols = ("id", "version", "community", "year", "amount", "source", "date")
                if c.town["name"] in self.city.split:
                    half = activity // 2
                    parts = [("city_finance", half), ("town_finance", activity - half)]
                else:
                    parts = [("town_finance", activity)]
                for source, amount in parts:
                    self.add(M.FundingAllocation, fcols,
                             (self.nid(M.FundingAllocation), 1, c.id, year, Decimal(amount), source, d))
                if "funding_short" in c.faults or r.random() < 0.3:
                    d2 = self.rdate(d + dt.timedelta(days=30), min(T, dt.date(year, 11, 30)))
                    if d2 <= T:
                        self.add(M.FundingAllocation, fcols, (self.nid(M.FundingAllocation), 1, c.id, year,
                                                              Decimal(r.randrange(5000, 30000, 1000)), "entrusted",
                                                              d2))
                if r.random() < 0.1:
                    d3 = self.rdate(d + dt.timedelta(days=10), min(T, dt.date(year, 12, 20)))
                    if d3 <= T and d3 != d:
                        self.add(M.FundingAllocation, fcols, (self.nid(M.FundingAllocation), 1, c.id, year,
                                                              Decimal(r.randrange(2000, 10000, 500)), "donation", d3))
                # expenditures
                spent = 0
                target = activity * r.uniform(0.6, 0.9)
                k = 0
                while spent < target and k < 14:
                    k += 1
                    amount = min(target - spent + 100, r.randrange(500, 6000, 50))
                    de = self.rdate(d + dt.timedelta(days=5), min(T, dt.date(year, 12, 28)))
                    if de > T:
                        break
                    self.add(M.Expenditure, ("id", "version", "community", "date", "amount", "purpose"),
                             (self.nid(M.Expenditure), 1, c.id, de, _round_fen(amount),
                              f"{r.choice(PURPOSES)}（第{k}笔）"))
                    spent += amount
            # funding published (经费公示)
            if "funding_unpublished" not in c.faults:
                if year == Y - 1:
                    pub(year, "funding", dt.date(year, 12, r.randint(15, 30)))
                elif r.random() < 0.5:
                    pub(year, "funding", dt.date(year, 7, r.randint(5, 25)))
        # 四议两公开 decisions
        for year in (Y - 1, Y):
            hi = min(dt.date(year, 8, 31), T - dt.timedelta(days=150))
            lo = dt.date(year, 1, 10)
            if hi < lo:
                continue
            bad = r.randint(0, 1) if "four_two_bad" in c.faults else -1
            for i in range(r.randint(2, 3)):
                d0 = self.rdate(lo, hi)
                stages = [d0]
                for gap in ((3, 10), (3, 10), (5, 15), (5, 15), (1, 5)):
                    stages.append(stages[-1] + dt.timedelta(days=r.randint(*gap)))
                stages[5] = stages[4] + dt.timedelta(days=r.randint(30, 90))
                if stages[5] > T:
                    stages[5] = T
                if i == bad:
                    if r.random() < 0.5:
                        stages[1], stages[2] = stages[2], stages[1]  # reviewed before consulted
                    else:
                        stages[2] = None  # no 党员大会审议
                self.add(M.FourTwoDecision, ("id", "version", "code", "community", "title", "proposed", "consulted",
                                             "reviewed", "resolved", "published", "result_published"),
                         (self.nid(M.FourTwoDecision), 1, f"{c.code}-SY{year}{i + 1:02d}", c.id,
                          f"{year}年{r.choice(DECISIONS)}", *stages))

    # ------------------------------------------------------------------ everything else
    def emit_other(self, c: _Comm):
        M = models
        r, T, Y, W0 = self.rng, self.T, self.Y, self.W0
        people = [p for p in c.persons if p.active and p.org is not None]
        residents = [p for p in people if p.cls == "resident"]
        workers = [w for w in c.workers if w.status == "active"] or c.workers
        # services (clause 10)
        for (y, m) in self.month_list:
            for _ in range(r.randint(1, 3)):
                d = dt.date(y, m, r.randint(1, 28))
                if d > T:
                    continue
                tg = r.choice(list(SERVICES))
                self.add(M.ServiceRecord, ("id", "version", "community", "target_group", "free", "date", "content"),
                         (self.nid(M.ServiceRecord), 1, c.id, tg, r.random() < 0.8, d, r.choice(SERVICES[tg])))
        # commitments of members and of branches
        ccols = ("id", "version", "member", "organization", "year", "content", "fulfilled", "fulfilled_date")
        for year in (Y - 1, Y):
            for p in residents:
                if r.random() < 0.2:
                    done = r.random() < (0.85 if year < Y else 0.5)
                    fd = self.rdate(dt.date(year, 3, 1), min(T, dt.date(year, 12, 28))) if done else None
                    self.add(M.Commitment, ccols, (self.nid(M.Commitment), 1, p.id, None, year,
                                                   r.choice(COMMITMENTS), done, fd))
            for b in c.branches:
                self.add(M.Commitment, ccols, (self.nid(M.Commitment), 1, None, b.id, year,
                                               f"{b.name}{year}年度为民办实事承诺", year < Y, None if year == Y
                                               else dt.date(year, 12, r.randint(1, 28))))
        # responsibility zones, duty posts, volunteer hours, pairings
        for i, p in enumerate(r.sample(residents, min(len(residents), r.randint(3, 8)))):
            self.add(M.ResponsibilityZone, ("id", "version", "member", "community", "name", "description"),
                     (self.nid(M.ResponsibilityZone), 1, p.id, c.id, f"第{i + 1}责任区（{i * 2 + 1}—{i * 2 + 2}幢）",
                      "楼道环境、邻里互助、民情收集"))
        for p in residents:
            if r.random() < 0.08:
                self.add(M.DutyPost, ("id", "version", "member", "name", "duties", "since"),
                         (self.nid(M.DutyPost), 1, p.id, r.choice(DUTY_POSTS), "按岗履责，每月至少服务一次",
                          self.rdate(dt.date(Y - 3, 1, 1), T)))
        vcols = ("id", "version", "member", "date", "hours", "activity")
        for p in residents:
            share = 0.35 if p.retired else 0.1
            if r.random() < share:
                for _ in range(r.randint(2, 8)):
                    d = self.rdate(W0, T)
                    self.add(M.VolunteerHours, vcols, (self.nid(M.VolunteerHours), 1, p.id, d,
                                                       Decimal(r.choice([1, 1.5, 2, 2, 3, 4])),
                                                       r.choice(VOLUNTEER)))
        for p in r.sample(residents, min(len(residents), r.randint(3, 6))):
            since = self.rdate(dt.date(Y - 3, 1, 1), T - dt.timedelta(days=30))
            self.add(M.Pairing, ("id", "version", "member", "household", "since", "until"),
                     (self.nid(M.Pairing), 1, p.id, f"{self.name(r.choice('MF'))}家（{r.choice(['低保户', '残疾人家庭', '独居老人', '重病家庭'])}）",
                      since, None))
        # public-sentiment diary (民情日记)
        for (y, m) in self.month_list:
            for _ in range(2):
                d = dt.date(y, m, r.randint(1, 28))
                if d > T:
                    continue
                w = r.choice(workers)
                p = r.choice(people) if people and r.random() < 0.5 else None
                self.add(M.DiaryEntry, ("id", "version", "community", "member", "worker", "date", "content"),
                         (self.nid(M.DiaryEntry), 1, c.id, p.id if p else None, w.id, d,
                          f"走访了解：{r.choice(DEMANDS)}，已记录并跟进。"))
        # facilities
        fcols = ("id", "version", "community", "kind", "name", "area", "shared", "opened")
        kinds = ["activity_room", "service_hall"] + (["volunteer_studio"] if r.random() < 0.6 else []) + \
            (["other"] if r.random() < 0.3 else [])
        labels = {"activity_room": "党员活动室", "service_hall": "一站式服务大厅", "volunteer_studio": "党员志愿服务工作室",
                  "other": "党建书屋"}
        for k in kinds:
            area = {"activity_room": (60, 300), "service_hall": (150, 800), "volunteer_studio": (30, 120),
                    "other": (30, 100)}[k]
            self.add(M.Facility, fcols, (self.nid(M.Facility), 1, c.id, k, f"{c.name}{labels[k]}",
                                         Decimal(r.randint(*area)), r.random() < 0.9,
                                         self.rdate(dt.date(2008, 1, 1), W0)))
        # resident units and consultations (征求社区意见)
        ucols = ("id", "version", "community", "name", "kind", "has_party_org", "part_time_member",
                 "joint_meeting_member")
        names = set()
        for _ in range(r.randint(3, 8)):
            kind = r.choice(["government", "enterprise", "institution", "social_org", "non_public"])
            nm = {"government": f"{self.city.name}{r.choice(['司法局', '城管局', '税务局', '人社局'])}{c.name[:2]}分局",
                  "institution": f"{self.city.name}{c.name[:2]}{r.choice(['小学', '幼儿园', '卫生服务站'])}",
                  "social_org": f"{c.name[:2]}{r.choice(['志愿者协会', '社工服务中心', '老年协会'])}"}.get(kind) or self.company()
            if nm in names:
                continue
            names.add(nm)
            uid = self.nid(M.ResidentUnit)
            has_org = r.random() < 0.4
            self.add(M.ResidentUnit, ucols, (uid, 1, c.id, nm, kind, has_org, has_org and r.random() < 0.4,
                                             r.random() < 0.6))
            if has_org:
                for _ in range(r.randint(0, 2)):
                    d = self.rdate(W0, T)
                    self.add(M.UnitConsultation, ("id", "version", "unit", "date", "subject", "person", "opinion"),
                             (self.nid(M.UnitConsultation), 1, uid, d, r.choice(["admission", "promotion"]),
                              self.name(r.choice("MF")), r.choice(["同意", "同意，表现良好", "无异议"])))


class _Province:
    """The province (``CITIES``): each city planned like the city demo, written, and dropped before
    the next is planned, so memory stays that of one city whatever the scale.  The totals of the
    size times ``scale`` are shared out evenly; each city has its own random stream (the first
    city's is the seed's, so at full scale it is the city demo itself)."""

    def __init__(self, seed, today, progress, scale):
        spec = SIZES["province"]
        n = len(CITIES)

        def share(key):
            total = max(n, round(spec[key] * scale))
            return [total // n + (1 if i < total % n else 0) for i in range(n)]

        self.seed, self.today, self.progress = seed, today, progress
        self.plans = list(zip(CITIES, zip(share("communities"), share("members"), share("workers"))))
        self.last = None

    def run(self):
        total = sum(counts[0] for _city, counts in self.plans)
        done, prev = 0, None
        with _foreign_keys_off():
            for i, (city, counts) in enumerate(self.plans):
                seed = self.seed if i == 0 else f"{self.seed}/{city.area}"
                gen = _Generator("city", seed, self.today, self.progress, 1.0, city=city, counts=counts, prev=prev)
                gen.bar = (done, total, i + 1, len(self.plans))
                if prev is not None:
                    prev.release()
                    prev = None
                    gc.collect()
                gen.say(tr("演示数据：{c}：生成人员与组织", "demo: {c}: planning people and organizations",
                           c=city.name))
                gen.plan()
                gen.emit_city()
                gen.emit_roster()
                done += len(gen.comms)
                prev = self.last = gen
            prev.finish()

    def say(self, text):
        if self.last is not None:
            self.last.say(text)

    def summary(self) -> dict:
        out = {tr("城市", "cities"): len(self.plans)}
        out.update(self.last.summary())
        return out


def _cn(n: int) -> str:
    """一, 二, … 十九 (for names like 第三党支部)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
