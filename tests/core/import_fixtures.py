"""CSV fixtures for the import tests: a small city in every SPEC §5 kind (today = 2024-06-30)."""
from __future__ import annotations

import datetime as dt

from core import ids

TODAY = "2024-06-30"

M1 = ids.make("320583", dt.date(1980, 5, 1), 123)  # man
M2 = ids.make("320583", dt.date(1990, 2, 3), 124)  # woman
M3 = ids.make("320583", dt.date(1955, 8, 8), 125)  # man, floating-in, unplaced
M4 = ids.make("320583", dt.date(1970, 3, 9), 126)  # woman, floating-out
W1 = ids.make("320583", dt.date(1975, 1, 1), 11)
W2 = ids.make("320583", dt.date(1992, 12, 12), 12)

ORDER = ["communities", "orgs", "members", "workers", "pay", "trainings", "meetings", "attendance",
         "evaluations", "dues", "visits", "reports_given", "publications", "funding", "expenditures",
         "wages", "transfers"]

CSV = {
    "communities": """区镇,街道,社区编码,社区名称
玉山镇,,C001,同心社区
巴城镇,城东街道,C002,东湖社区
""",
    # the branch comes before its parent committee
    "orgs": """组织编码,组织名称,组织类别,上级组织编码,社区编码,批准文号
O2,同心第一支部,党支部,O1,C001,
O1,同心社区党委,党委,,C001,昆组〔2020〕1号
O3,东湖支部,党支部,,C002,
""",
    "members": f"""姓名,公民身份号码,入党日期,党员状态,所在党组织编码,党员类别,离退休,行动不便,报到日期,编入日期,流动党员活动证号,联系人,学历,联系电话,党费类别,月收入,社区编码
张伟,{M1},2000-07-01,正式党员,O2,社区党员,否,否,,,,,本科,13812345678,在职,8000.50,C001
李娜,{M2},2024-01-01,预备党员,O2,社区党员,否,是,,,,,大专,,在职,3000,
单田芳,{M3},1980-01-01,正式党员,,流入党员,是,否,2024-03-01,,,,,,,,C001
赵敏,{M4},1995-05-05,正式党员,O3,流出党员,否,否,,,LD-001,王五,,,,,
""",
    "workers": f"""姓名,公民身份号码,社区编码,职务,任职日期,学历,社工证书,取证日期,入职日期,大学生,后备人才,备案日期,选举方式
王强,{W1},C001,党组织书记、居委会主任,2021-01-05,本科,社会工作师,2016-05-01,2010-03-01,否,是,2021-02-01,公推直选
陈静,{W2},C002,委员,2022-03-01,研究生,无,,2022-03-01,是,否,,
""",
    "pay": f"""公民身份号码,报酬年度,年基本报酬
{W1},2023,120000
{W2},2023,80000.5
""",
    "trainings": f"""公民身份号码,培训名称,培训级别,开始日期,天数
{W1},书记示范培训,市级及以上,2024-03-01,5
{W2},社工实务,街道级,2024-04-01,1.5
""",
    "meetings": """会议编号,组织编码,会议类型,日期,主题
MT1,O2,党员大会,2024-01-15,学习
MT2,O3,党课,2024-02-20,
""",
    "attendance": f"""会议编号,公民身份号码,出勤,请假事由
MT1,{M1},出席,
MT1,{M2},请假,出差
MT2,{M4},缺席,
""",
    "evaluations": f"""公民身份号码,年度,评议结果
{M1},2023,优秀
{M4},2023,合格
""",
    "dues": f"""公民身份号码,所属月份,应交金额,实交金额,交纳日期
{M1},2024-01,120.01,120.01,2023-12-28
{M1},2024-02,120.01,,
{M2},2024-01,15,15.00,2024-01-31
""",
    "visits": f"""社区编码,类型,日期,接待人身份号码,对象身份号码,人次,诉求,答复日期,办结日期,不予受理原因
C001,接待日,2024-01-08,{W1},,3,路灯不亮,2024-01-10,2024-01-20,
C001,走访,2024-01-09,,,1,,,,
C002,困难党员走访,2024-02-01,{W2},{M4},1,,,,
C001,接待日,2024-01-15,,,2,要求拆除违建,,,不属于社区职责
""",
    "reports_given": f"""公民身份号码,年度,述职对象,日期
{W1},2023,街道党工委,2024-01-20
{W1},2023,党员群众,2024-01-25
""",
    "publications": """社区编码,年度,公开类型,日期
C001,2024,接访走访时序,2024-01-10
C001,2024,党务公开,2024-04-01
""",
    "funding": """社区编码,年度,金额,来源,日期
C001,2024,15000,市级财政,2024-02-01
C001,2024,2000.50,社会捐助,2024-03-01
""",
    "expenditures": """社区编码,日期,金额,用途
C001,2024-03-05,1200.00,党员活动
C002,2024-04-05,300,学习资料
""",
    "wages": """年度,城镇职工平均工资,来源
2022,98000,苏统〔2023〕5号
2023,101500.5,
""",
    "transfers": f"""公民身份号码,转接类型,原组织,新组织,日期,介绍信编号
{M1},市内转移,O2,O3,2024-05-01,JX-1
{M4},转出,O3,上海市某街道党工委,2024-06-01,JX-2
""",
}

COUNTS = {k: len(v.strip().splitlines()) - 1 for k, v in CSV.items()}


def town_plugin(folder, monkeypatch, name: str, source: str) -> None:
    """Write a town plugin ``name``.py into ``folder``/plug and name that folder in a config file (plugin_dirs)."""
    plugdir = folder / "plug"
    plugdir.mkdir(exist_ok=True)
    (plugdir / f"{name}.py").write_text(source, encoding="utf-8")
    cfg = folder / "c.toml"
    cfg.write_text(f'plugin_dirs = ["{plugdir}"]\n', encoding="utf-8")
    monkeypatch.setenv("DANGJIAN_CONFIG", str(cfg))
