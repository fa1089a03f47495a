"""The ``dangjian`` command (headless CLI).

Global options come before the subcommand: ``--db URL``, ``--config FILE``,
``--lang zh|en`` (or ``DANGJIAN_DB``, ``DANGJIAN_CONFIG``, ``DANGJIAN_LANG``).
Exit codes: 0 ok, 1 rules failed / rows rejected, 2 bad usage or bad data.
A user error prints one clear line on stderr, never a traceback.

This package is the one home of every command handler: the parser, the option
types and the global setup here; one module per command group beside it
(:mod:`core.cli.basic`: tui, init, demo, plugins; :mod:`core.cli.check`;
:mod:`core.cli.report`; :mod:`core.cli.score`; :mod:`core.cli.importing`:
import, export, template; :mod:`core.cli.users`; :mod:`core.cli.audit`;
:mod:`core.cli.backup`: backup, restore).  A handler reads the arguments, calls
the domain modules of core and prints; the domain modules never import
``core.cli``.  Each subcommand names its handler as ``"module:function"``,
imported only when that subcommand runs, so ``dangjian check`` never loads
textual.
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys

from core.errors import UserError
from core.i18n import tr

FORMATS = ["table", "md", "csv", "xlsx", "html", "json"]


class ArgParser(argparse.ArgumentParser):
    """No abbreviated options anywhere: ``--outp`` is not ``--output`` (a wrapper's filter must see
    exactly the option names the program accepts).  argparse's own words ("usage:", "options",
    "the following arguments are required", …) come in the interface language
    (:func:`core.i18n.argparse_gettext`), while this parser is built, prints help or parses."""

    def __init__(self, *args, lazy_epilog=None, **kwargs):
        kwargs["allow_abbrev"] = False
        self.lazy_epilog = lazy_epilog
        with _argparse_words():
            super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        with _argparse_words():
            return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        with _argparse_words():
            return super().parse_args(args, namespace)

    def format_usage(self):
        with _argparse_words():
            return super().format_usage()

    def print_help(self, file=None):
        """Help runs before the command's setup: it loads the config the command line names and the
        plugins first (the lists in help are theirs), and warns on stderr of a plugin that failed
        to load or a config that cannot be read — help itself still prints and exits 0."""
        warnings = _load_for_help()
        super().print_help(file)
        for line in warnings:
            print(line, file=sys.stderr)

    def format_help(self):
        if self.lazy_epilog is not None:  # built only when help is asked for (it may load plugins)
            self.epilog = self.lazy_epilog()
        with _argparse_words():
            return super().format_help()

    def error(self, message):  # exit 2 with one line, as argparse does, but in our words
        self.print_usage(sys.stderr)
        sys.stderr.write(f"dangjian: {message}\n")
        raise SystemExit(2)


_words_depth = 0

#: the command line main() is parsing: help reads ``--config`` from it before the parse ends
_argv: list[str] = []


def _option_in(argv: list[str], name: str) -> str | None:
    """The value of option ``name`` (``--config FILE`` or ``--config=FILE``) in ``argv``, before ``--``."""
    for i, a in enumerate(argv):
        if a == "--":
            break
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1:]
    return None


def _load_for_help() -> list[str]:
    """Load the config (``--config`` of the command line, the system config under the service
    account) and the plugins, as the command would; return the warning lines for stderr: each
    plugin that failed to load, or why the config or the plugins could not be read."""
    from core import config, plugins, server

    warning = "dangjian: " + tr("警告：", "warning: ")
    try:
        dep = server.deployment()
        cfg = config.load(system=(str(dep.path), dep.raw)) if dep.service else config.load(
            _option_in(_argv, "--config"))
        manager = plugins.load(cfg)
    except Exception as exc:  # help never fails: it says why the lists below may be incomplete
        return [warning + tr("无法读取配置或插件，帮助中的列表可能不全：{e}",
                             "the config or the plugins could not be read; the lists in this help may be "
                             "incomplete: {e}", e=exc)]
    return [warning + f.line() for f in manager.load_failures()]


class _argparse_words:
    """argparse's module-level ``_`` and ``ngettext`` replaced by the translating ones for the
    block (nested blocks allowed); argparse outside ``dangjian``'s parser is left alone."""

    def __enter__(self):
        global _words_depth
        from core import i18n

        if _words_depth == 0:
            self.saved = (argparse._, argparse.ngettext)
            argparse._, argparse.ngettext = i18n.argparse_gettext, i18n.argparse_ngettext
        _words_depth += 1
        return self

    def __exit__(self, *exc):
        global _words_depth
        _words_depth -= 1
        if _words_depth == 0:
            argparse._, argparse.ngettext = self.saved
        return False


# The option types below raise UserError, which argparse lets through: main() prints it as the one line
# every other bad value gets ("dangjian: --year: …"), exit 2.

def year_type(text: str) -> int:
    """``--year``: a year between 1921 and next year (every subcommand)."""
    from core import dates

    return dates.check_year(text, "--year")


def as_of_type(text: str) -> str:
    """``--as-of``: a date YYYY-MM-DD in a year between 1921 and next year (every subcommand); kept as
    its ISO text, which the handlers parse."""
    from core import dates

    return dates.parse_as_of(text, "--as-of").isoformat()


def count_type(option: str, low: int, high: int):
    """An integer option between ``low`` and ``high`` (``--limit``, ``--prune``)."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise UserError(tr("{o}：应为整数：{v}", "{o}: a whole number is expected: {v}", o=option, v=text)) from None
        if not low <= value <= high:
            raise UserError(tr("{o}：应在 {lo} 至 {hi} 之间：{v}", "{o}: must lie between {lo} and {hi}: {v}",
                               o=option, lo=low, hi=high, v=value))
        return value

    return parse


#: characters no value on the command line may hold: C0 and C1 controls, DEL, bidirectional controls
#: (they would break the one-line message that echoes the value, or disguise it on a terminal)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _text_type(option: str):
    """The type of every free-text option and operand: any text without control characters."""

    def parse(text: str) -> str:
        if _CONTROL.search(text):
            shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                                 else f"\\u{ord(m.group()):04x}", text)
            raise UserError(tr("{o}：不能含控制字符：{v}", "{o}: control characters are not allowed: {v}",
                               o=option, v=shown))
        return text

    return parse


def _refuse_control_characters(parser) -> None:
    """Give every free-text argument of ``parser`` and its subcommands :func:`_text_type`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _refuse_control_characters(sub)
        elif action.type is None and action.choices is None and action.nargs != 0 and action.dest != "help":
            action.type = _text_type(action.option_strings[0] if action.option_strings else action.dest.upper())


#: the most rows ``audit --limit`` prints; the most days ``backup --prune`` keeps
MAX_AUDIT_LIMIT = 1_000_000
MAX_PRUNE_DAYS = 36_500


def _as_of_arg(p) -> None:
    p.add_argument("--as-of", type=as_of_type, help=tr("截止日期 YYYY-MM-DD", "as-of date YYYY-MM-DD"))


def _scope_args(p, year=True):
    if year:
        p.add_argument("--year", type=year_type, help=tr("检查年度（默认：--as-of 所在年度，否则今年）",
                                                         "year under check (default: year of --as-of, else this year)"))
    p.add_argument("--town", help=tr("只看此区镇（名称）", "only this town (区镇 name)"))
    p.add_argument("--community", help=tr("只看此社区（社区编码）", "only this community (社区编码)"))


def _listing(heading_zh: str, heading_en: str, rows) -> str:
    """An epilog listing names and titles, one a line, under a heading."""
    rows = list(rows)
    if not rows:
        return ""
    width = max(len(n) for n, _t in rows)
    return "\n".join([tr(heading_zh, heading_en), *(f"  {n.ljust(width)}  {t}" for n, t in rows)])


def _kind_list() -> str:
    """The kinds import, export and template take, one line each (from the kinds registry)."""
    from core import kinds

    return _listing("记录类别：", "kinds:", ((k.name, k.title() + (tr("（仅管理员）", " (administrators only)")
                                                                   if k.admin_only else ""))
                                           for k in kinds.all_kinds(True)))


def _report_list() -> str:
    """The reports ``dangjian report`` runs, name and title (from the reports registry)."""
    from core import plugins
    from core.i18n import get_lang

    try:
        reg = plugins.get().registry
    except Exception:  # help never fails: the plugins' own errors show when a command runs
        return ""
    return _listing("报表：", "reports:", ((n, reg.reports[n].title(get_lang())) for n in sorted(reg.reports)))


def _scorer_list() -> str:
    """The scorers ``dangjian score`` runs, name and title (from the scorers registry)."""
    from core import plugins
    from core.i18n import get_lang

    try:
        reg = plugins.get().registry
    except Exception:
        return ""
    rows = []
    for name in reg.scorer_names():
        s = reg.scorers.get(name) or next(iter(reg.town_scorers.get(name, {}).values()), None)
        rows.append((name, s.title(get_lang()) if s is not None else ""))
    return _listing("评分：", "scorers:", rows)


def build_parser() -> ArgParser:
    """The parser, its help in the interface language (:func:`core.i18n.get_lang` when it is built)."""
    raw = argparse.RawDescriptionHelpFormatter
    p = ArgParser(prog="dangjian", description="社区党建工作电子台账 — electronic ledger of community Party building")
    p.add_argument("--db", help=tr("数据库 URL（sqlite:///文件 或 postgresql://…）；环境变量 DANGJIAN_DB",
                                   "database URL (sqlite:///FILE or postgresql://…); env DANGJIAN_DB"))
    p.add_argument("--config", help=tr("叠加在默认配置之上的配置文件；环境变量 DANGJIAN_CONFIG",
                                       "config file layered over the defaults; env DANGJIAN_CONFIG"))
    p.add_argument("--lang", choices=["zh", "en"], help=tr("界面语言；环境变量 DANGJIAN_LANG",
                                                           "interface language; env DANGJIAN_LANG"))
    p.add_argument("--version", action="store_true", help=tr("显示版本并退出", "print the version and exit"))
    sub = p.add_subparsers(dest="command", parser_class=ArgParser)
    output_help = tr("写入文件，而不是标准输出", "write to FILE instead of stdout")
    format_help = tr("输出格式（默认 table）", "output format (default table)")

    s = sub.add_parser("tui", help=tr("打开终端界面（默认）", "open the terminal app (default)"))
    s.set_defaults(handler="core.cli.basic:cmd_tui")

    s = sub.add_parser("init", help=tr("创建或升级数据库结构（管理员）", "create or upgrade the database schema (admin)"))
    s.set_defaults(handler="core.cli.basic:cmd_init")

    s = sub.add_parser("demo", help=tr("在空数据库中生成演示区镇并打开界面",
                                       "fill an empty database with a demo town and open the app"))
    s.add_argument("--size", choices=["small", "city", "province"], default="small",
                   help=tr("small：一个区镇三个社区；city：全市规模（10 万党员）；province：十个城市、100 万党员，"
                           "供性能测试（约 10 分钟）",
                           "small: one town of three communities; city: a whole city (100,000 members); "
                           "province: ten cities, 1,000,000 members, for benchmarks (about 10 minutes)"))
    s.add_argument("--scale", type=float, default=1.0, metavar="F",
                   help=tr("按倍数缩放所选规模（如 0.01）", "scale the chosen size by F (e.g. 0.01)"))
    s.add_argument("--seed", type=int, default=20111, help=tr("随机种子", "random seed"))
    s.add_argument("--reset", action="store_true", help=tr("重建演示数据（先询问，除非 --yes）",
                                                           "rebuild the demo (asks first, unless --yes)"))
    s.add_argument("--yes", action="store_true", help=tr("不询问确认", "do not ask for confirmation"))
    s.add_argument("--no-open", action="store_true", help=tr("只生成演示数据库，不打开界面",
                                                             "build the demo database and exit"))
    s.set_defaults(handler="core.cli.basic:cmd_demo")

    s = sub.add_parser("plugins", help=tr("列出插件及其来源、挂钩和错误", "list plugins, their source, hooks and errors"))
    s.add_argument("--format", choices=["table", "json"], default="table", help=format_help)
    s.set_defaults(handler="core.cli.basic:cmd_plugins")
    psub = s.add_subparsers(dest="plugins_command", metavar="{new}")
    n = psub.add_parser("new", help=tr("新建区镇插件：示例插件文件、可运行的测试和配置行",
                                       "start a town plugin: an example plugin file, a passing test, config lines"))
    n.add_argument("name", metavar="NAME", help=tr("插件名（Python 标识符）", "the plugin's name (a Python identifier)"))
    n.add_argument("--town", required=True, help=tr("插件服务的区镇", "the town the plugin serves"))
    n.add_argument("--dir", help=tr("写入的目录（默认当前目录；测试在其 tests/ 下）",
                                    "the folder to write into (default: the current one; the test under its tests/)"))
    n.set_defaults(handler="core.cli.plugins_new:cmd_plugins_new", no_setup=True)

    s = sub.add_parser("check", help=tr("按政策检查规则（有不符合时退出码 1）",
                                        "check the rules of the policy (exit 1 when any fails)"))
    _scope_args(s)
    _as_of_arg(s)
    s.add_argument("--rule", action="append", help=tr("只检查此规则（可重复）", "only this rule id (repeatable)"))
    s.add_argument("--all", action="store_true", help=tr("也显示通过和信息", "show passes and infos too"))
    s.add_argument("--format", choices=FORMATS, default="table", help=format_help)
    s.add_argument("--output", help=output_help)
    s.add_argument("--explain", metavar="RULE", help=tr("说明一条规则：条文、参数、通过条件",
                                                         "explain a rule: clause text, parameters, what passes"))
    s.add_argument("--no-store", action="store_true", help=tr("不保存本次检查结论", "do not keep this run's findings"))
    s.set_defaults(handler="core.cli.check:cmd_check")

    for name, help_, handler, epilog, what in (
            ("report", tr("生成报表（报表名称见 dangjian report --list）", "run a report (dangjian report --list)"),
             "core.cli.report:cmd_report", _report_list, (tr("报表", "report"), tr("报表", "reports"))),
            ("score", tr("运行评分：member-points、community-score 等", "run a scorer: member-points, community-score, …"),
             "core.cli.score:cmd_score", _scorer_list, (tr("评分", "scorer"), tr("评分", "scorers")))):
        s = sub.add_parser(name, help=help_, description=help_, lazy_epilog=epilog, formatter_class=raw)
        s.add_argument("name", nargs="?", help=tr("要运行的{w}名称（见下表）", "the {w} to run (listed below)", w=what[0]))
        s.add_argument("--list", action="store_true", help=tr("列出全部{w}及其插件", "list the {w} and their plugins",
                                                              w=what[1]))
        _scope_args(s)
        _as_of_arg(s)
        s.add_argument("--format", choices=FORMATS, default="table", help=format_help)
        s.add_argument("--output", help=output_help)
        s.set_defaults(handler=handler)

    s = sub.add_parser("import", help=tr("导入一种记录的 .xlsx 或 .csv 文件（- 读标准输入）",
                                         "import a .xlsx or .csv file of one kind (- reads stdin)"),
                       lazy_epilog=_kind_list, formatter_class=raw)
    s.add_argument("kind", help=tr("记录类别（见下表）", "the kind of records (listed below)"))
    s.add_argument("file", help=tr(".xlsx 或 .csv 文件；- 读标准输入（按内容判断 XLSX 或 CSV）",
                                   "the .xlsx or .csv file, or - for stdin (XLSX or CSV by content)"))
    s.add_argument("--partial", action="store_true", help=tr("写入正确的行，保存出错的行",
                                                             "write the good rows, save the bad ones"))
    s.add_argument("--rejects", help=tr("--partial 保存出错行的位置（默认 文件.rejects.csv；- 时为标准输出）",
                                        "where --partial saves bad rows (default FILE.rejects.csv; stdout for -)"))
    s.add_argument("--encoding", help=tr("CSV 编码（默认自动识别 UTF-8、UTF-8 BOM 或 GBK）",
                                         "CSV encoding (default: detect UTF-8, UTF-8 BOM or GBK)"))
    s.add_argument("--correct", action="store_true",
                   help=tr("仅党员、仅管理员：把党员所在组织或类别的变化作为更正（不留历史，记审计），用于全市首次导入",
                           "members only, administrators: apply a change of a member's organization or class as a "
                           "correction without history (audited), for a city's first imports"))
    s.set_defaults(handler="core.cli.importing:cmd_import")

    file_help = tr("文件（默认为当前文件夹中的 类别.xlsx）；- 写到标准输出",
                   "the file (default KIND.xlsx in the current folder); - for stdout")
    format_file_help = tr("与 - 同用：csv（默认）或 xlsx（标准输出不能是终端）",
                          "with -: csv (default) or xlsx (stdout must not be a terminal)")
    s = sub.add_parser("export", help=tr("把一种记录导出为 .xlsx 或 .csv（与导入格式相同）",
                                         "export one kind to .xlsx or .csv (same format as import)"),
                       lazy_epilog=_kind_list, formatter_class=raw)
    s.add_argument("kind", help=tr("记录类别（见下表）", "the kind of records (listed below)"))
    s.add_argument("file", nargs="?", help=file_help)
    s.add_argument("--format", choices=["csv", "xlsx"], help=format_file_help)
    _scope_args(s, year=False)
    s.set_defaults(handler="core.cli.importing:cmd_export")

    s = sub.add_parser("template", help=tr("写出空白导入模板", "write an empty import template"),
                       lazy_epilog=_kind_list, formatter_class=raw)
    s.add_argument("kind", help=tr("记录类别（见下表）", "the kind of records (listed below)"))
    s.add_argument("file", nargs="?", help=file_help)
    s.add_argument("--format", choices=["csv", "xlsx"], help=format_file_help)
    s.set_defaults(handler="core.cli.importing:cmd_template")

    roles = ["community", "street", "town", "city", "admin"]
    s = sub.add_parser("users", help=tr("管理用户（管理员）", "manage users (admin)"))
    us = s.add_subparsers(dest="users_command", parser_class=ArgParser, required=True)
    a = us.add_parser("add", help=tr("新增用户", "add a user"))
    a.add_argument("login", help=tr("登录名", "login name"))
    a.add_argument("--role", required=True, choices=roles, help=tr("角色", "role"))
    a.add_argument("--scope", default="city", help=tr("范围：社区编码、区镇名称、区镇/街道 或 city",
                                                      "scope: community code, town name, town/street or city"))
    a.add_argument("--read-only", action="store_true", help=tr("只读", "read only"))
    a.add_argument("--full-personal-data", action="store_true", help=tr("可看完整个人信息", "may see full personal data"))
    us.add_parser("list", help=tr("列出用户", "list the users")).add_argument(
        "--format", choices=FORMATS, default="table", help=format_help)
    r = us.add_parser("remove", help=tr("删除用户", "remove a user"))
    r.add_argument("login", help=tr("登录名", "login name"))
    st = us.add_parser("set", help=tr("修改用户", "change a user"))
    st.add_argument("login", help=tr("登录名", "login name"))
    st.add_argument("--role", choices=roles, help=tr("角色", "role"))
    st.add_argument("--scope", help=tr("范围", "scope"))
    st.add_argument("--read-only", dest="read_only", action="store_true", default=None, help=tr("只读", "read only"))
    st.add_argument("--writable", dest="read_only", action="store_false", help=tr("可写", "writable"))
    st.add_argument("--full-personal-data", dest="full_personal_data", action="store_true", default=None,
                    help=tr("可看完整个人信息", "may see full personal data"))
    st.add_argument("--masked-personal-data", dest="full_personal_data", action="store_false",
                    help=tr("个人信息遮盖显示", "personal data masked"))
    s.set_defaults(handler="core.cli.users:cmd_users")

    s = sub.add_parser("audit", help=tr("查看审计日志", "show the audit log"))
    s.add_argument("--user", help=tr("只看此用户", "only this user"))
    s.add_argument("--since", help=tr("自此日期起 YYYY-MM-DD", "since YYYY-MM-DD"))
    s.add_argument("--record", help=tr("表 或 表:键", "TABLE or TABLE:KEY"))
    s.add_argument("--limit", type=count_type("--limit", 1, MAX_AUDIT_LIMIT), default=200,
                   help=tr("至多显示这么多行（默认 200）", "at most this many rows (default 200)"))
    s.add_argument("--format", choices=FORMATS, default="table", help=format_help)
    s.add_argument("--output", help=output_help)
    s.set_defaults(handler="core.cli.audit:cmd_audit")

    s = sub.add_parser("backup", help=tr("在他人工作时备份数据库的一致副本（管理员）",
                                         "consistent copy of the database while others work (admin)"))
    s.add_argument("file", nargs="?", help=tr("备份文件（默认：备份文件夹中带日期的文件）",
                                              "the backup file (default: a dated file in the backup folder)"))
    s.add_argument("--prune", type=count_type("--prune", 1, MAX_PRUNE_DAYS), metavar="DAYS",
                   help=tr("之后删除早于 DAYS 天的带日期备份（及残留的 .part 文件）",
                           "afterwards delete dated backups older than DAYS days (and leftover .part files)"))
    s.set_defaults(handler="core.cli.backup:cmd_backup")

    s = sub.add_parser("restore", help=tr("用备份替换数据库（管理员）", "replace the database with a backup (admin)"))
    s.add_argument("file", help=tr("备份文件", "the backup file"))
    s.add_argument("--yes", action="store_true", help=tr("不询问确认", "do not ask for confirmation"))
    s.set_defaults(handler="core.cli.backup:cmd_restore")
    _refuse_control_characters(p)
    return p


def _lang_in(argv: list[str]) -> str | None:
    """The language the command line asks for before it is parsed: ``--lang``, else the
    ``lang`` of ``--config`` when that file says (the environment and the default config
    are what :func:`core.i18n.get_lang` reads anyway)."""
    import os

    lang = cfg = None
    for i, a in enumerate(argv):
        if a == "--":
            break
        value = argv[i + 1] if i + 1 < len(argv) else None
        if a.startswith("--lang="):
            value, a = a[len("--lang="):], "--lang"
        if a.startswith("--config="):
            value, a = a[len("--config="):], "--config"
        if a == "--lang" and lang is None:
            lang = value
        elif a == "--config" and cfg is None:
            cfg = value
    if lang in ("zh", "en"):
        return lang
    if os.environ.get("DANGJIAN_LANG") in ("zh", "en") or not cfg:
        return None
    try:
        from pathlib import Path

        from core.config import load_file

        value = load_file(Path(cfg)).get("lang")
    except Exception:  # a bad config is reported when the command runs
        return None
    return value if value in ("zh", "en") else None


def setup(args) -> None:
    """Apply the global options: language, deployment, config, database, plugins, identity.

    Running as a server's service account (:mod:`core.server`), the system config
    is the only config and names the database; ``--db``, ``--config``, their
    environment variables and every path argument are refused.
    """
    from core import config, db, i18n, server

    if args.lang:
        i18n.set_lang(args.lang)
    dep = server.deployment()
    if dep.service:
        server.refuse_service_overrides(args)
        server.refuse_path_arguments(args)
        if not dep.db_url:
            raise UserError(tr("系统配置 {p} 没有 db（数据库 URL）", "the system config {p} names no db (database URL)",
                               p=dep.path))
        cfg = config.load(system=(str(dep.path), dep.raw))
        url = dep.db_url
    else:
        cfg = config.load(args.config)
        url = args.db
    if args.command != "tui":
        # the terminal app loads plugins after its first paint (start-up), then calls plugins.check_config()
        from core import plugins

        manager = plugins.load()
        plugins.check_config(cfg, manager)
        for f in manager.load_failures():  # loud on every command; the computing ones also withhold (exit 2)
            print("dangjian: " + tr("警告：", "warning: ") + f.line(), file=sys.stderr)
    db.connect(url)
    if db.last_upgrade and 0 < db.last_upgrade[0] < db.last_upgrade[1] and args.command != "init":
        # an automatic upgrade of stored data: counts only (it may run as any user); init lists where
        from core import stored_text

        line = stored_text.counts_line(stored_text.scan())
        if line:
            print(line, file=sys.stderr)
    from core import access

    me = access.current()  # identity first: an account with no user record is refused here
    sub = getattr(args, "users_command", None)
    if me.system and args.command not in server.SYSTEM_COMMANDS:
        raise UserError(tr("服务账号自己的定时任务只能运行 backup、check、report（不是 {c}）",
                           "the service account's own jobs may run only backup, check and report (not {c})",
                           c=args.command))
    if me.bootstrap and (args.command, sub) not in (("init", None), ("users", "add")):
        raise UserError(tr("本服务器还没有用户：请管理员先通过 sudo 运行 dangjian users add 登录名 --role …（会同时登记您本人为管理员）",
                           "this server has no users yet: an administrator first runs dangjian users add LOGIN "
                           "--role … through sudo (which records that administrator too)"))


def check_plugins(cfg=None, manager=None) -> None:
    """Validate the config's rule and scorer sections against what the plugins registered
    (:func:`core.plugins.check_config`, its home; ConfigError names the file and key)."""
    from core import plugins

    plugins.check_config(cfg, manager)


def main(argv: list[str] | None = None) -> int:
    from core import i18n

    global _argv
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    _argv = argv
    with i18n.using(_lang_in(argv)):  # help and argparse's messages in the language asked for
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except UserError as exc:  # an option's value refused by its type (year_type, as_of_type, count_type)
            print(f"dangjian: {exc}", file=sys.stderr)
            return exc.exit_code
    if args.version:
        from core import __version__

        print(f"dangjian {__version__}")
        return 0
    if not args.command:
        args.command = "tui"
        args.handler = "core.cli.basic:cmd_tui"
    from core.config import ConfigError
    from core.db import DatabaseError

    ran = False
    try:
        if not getattr(args, "no_setup", False):  # a command that needs no config, database or plugins
            setup(args)
            ran = True
        module, _, func = args.handler.partition(":")
        try:
            handler = getattr(importlib.import_module(module), func)
        except (ImportError, AttributeError):
            raise UserError(f"'dangjian {args.command}' is not available in this version") from None
        return int(handler(args) or 0)
    except (UserError, ConfigError, DatabaseError) as exc:
        print(f"dangjian: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        ran = False
        print("dangjian: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader stopped reading (``dangjian export members - | head``):
        _quiet_stdout()  # end quietly, as a program killed by SIGPIPE does, with its exit code
        return 141
    finally:
        from core import access, db

        if ran:
            keep_plugin_status(args)
        access.set_current(None)
        db.close()


def keep_plugin_status(args) -> None:
    """Keep what this command saw of the plugins in the database (:mod:`core.plugin_status`): its
    failures, with file:line, time and command, and the hooks that ran without failing (whose
    last failure is then forgotten) — for ``dangjian plugins`` and the app.  Not after ``restore``
    (the database was just replaced).  A failure to write is said on stderr; the exit code stays
    what the command gave (its own failures were already shown)."""
    if args.command == "restore":
        return
    from core import access, plugin_status

    try:
        plugin_status.save(command=plugin_status.command_of(args), user=access.current().login)
    except Exception as exc:  # noqa: BLE001 - said, never swallowed
        print("dangjian: " + tr("警告：插件故障未能记入数据库：{e}", "warning: the plugin failures could not be kept "
                                "in the database: {e}", e=str(exc).splitlines()[0] if str(exc) else repr(exc)),
              file=sys.stderr)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of a closed pipe says nothing."""
    import os

    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError, AttributeError):  # stdout is no real file (a test's capture): nothing to flush
        pass


def run() -> None:  # console-script entry point
    _skip_unused_drivers(sys.argv[1:])
    raise SystemExit(main())


def _skip_unused_drivers(argv: list[str]) -> None:
    """A process on SQLite never needs the PostgreSQL driver, yet peewee imports it
    when installed (tens of ms of every start-up, the TUI's included).  Only the
    console script does this: ``main()`` called in-process leaves modules alone."""
    import os

    url = None
    for i, a in enumerate(argv):
        if a == "--db" and i + 1 < len(argv):
            url = argv[i + 1]
        elif a.startswith("--db="):
            url = a[len("--db="):]
    url = url or os.environ.get("DANGJIAN_DB") or "sqlite:"
    if url.startswith("sqlite"):
        for name in ("psycopg2", "psycopg"):
            sys.modules.setdefault(name, None)

