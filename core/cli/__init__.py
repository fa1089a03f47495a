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
    exactly the option names the program accepts)."""

    def __init__(self, *args, lazy_epilog=None, **kwargs):
        kwargs["allow_abbrev"] = False
        self.lazy_epilog = lazy_epilog
        super().__init__(*args, **kwargs)

    def format_help(self):
        if self.lazy_epilog is not None:  # built only when help is asked for (it may load plugins)
            self.epilog = self.lazy_epilog()
        return super().format_help()

    def error(self, message):  # exit 2 with one line, as argparse does, but in our words
        self.print_usage(sys.stderr)
        sys.stderr.write(f"dangjian: {message}\n")
        raise SystemExit(2)


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
    p.add_argument("--as-of", type=as_of_type, help="as-of date YYYY-MM-DD")


def _scope_args(p, year=True):
    if year:
        p.add_argument("--year", type=year_type, help="year under check (default: year of --as-of, else this year)")
    p.add_argument("--town", help="only this town (区镇 name)")
    p.add_argument("--community", help="only this community (社区编码)")


def _kind_list() -> str:
    """The kinds import, export and template take, one line each (from the kinds registry)."""
    from core import kinds
    from core.i18n import tr

    rows = kinds.all_kinds(True)
    width = max(len(k.name) for k in rows)
    lines = [tr("记录类别：", "kinds:")]
    for k in rows:
        note = tr("（仅管理员）", " (administrators only)") if k.admin_only else ""
        lines.append(f"  {k.name.ljust(width)}  {k.title()}{note}")
    return "\n".join(lines)


def build_parser() -> ArgParser:
    p = ArgParser(prog="dangjian", description="社区党建工作电子台账 — electronic ledger of community Party building")
    p.add_argument("--db", help="database URL (sqlite:///FILE or postgresql://…); env DANGJIAN_DB")
    p.add_argument("--config", help="config file layered over the defaults; env DANGJIAN_CONFIG")
    p.add_argument("--lang", choices=["zh", "en"], help="interface language; env DANGJIAN_LANG")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=ArgParser)

    s = sub.add_parser("tui", help="open the terminal app (default)")
    s.set_defaults(handler="core.cli.basic:cmd_tui")

    s = sub.add_parser("init", help="create or upgrade the database schema (admin)")
    s.set_defaults(handler="core.cli.basic:cmd_init")

    s = sub.add_parser("demo", help="fill an empty database with a demo town and open the app")
    s.add_argument("--size", choices=["small", "city"], default="small")
    s.add_argument("--seed", type=int, default=20111)
    s.add_argument("--reset", action="store_true", help="rebuild the demo (asks first, unless --yes)")
    s.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    s.add_argument("--no-open", action="store_true", help="build the demo database and exit")
    s.set_defaults(handler="core.cli.basic:cmd_demo")

    s = sub.add_parser("plugins", help="list plugins, their source, hooks and errors")
    s.add_argument("--format", choices=["table", "json"], default="table")
    s.set_defaults(handler="core.cli.basic:cmd_plugins")

    s = sub.add_parser("check", help="check the rules of the policy (exit 1 when any fails)")
    _scope_args(s)
    _as_of_arg(s)
    s.add_argument("--rule", action="append", help="only this rule id (repeatable)")
    s.add_argument("--all", action="store_true", help="show passes and infos too")
    s.add_argument("--format", choices=FORMATS, default="table")
    s.add_argument("--output", help="write to FILE instead of stdout")
    s.add_argument("--explain", metavar="RULE", help="explain a rule: clause text, parameters, what passes")
    s.add_argument("--no-store", action="store_true", help="do not keep this run's findings")
    s.set_defaults(handler="core.cli.check:cmd_check")

    for name, help_, handler in (("report", "run a report (dangjian report --list)", "core.cli.report:cmd_report"),
                                 ("score", "run a scorer: member-points, community-score, …", "core.cli.score:cmd_score")):
        s = sub.add_parser(name, help=help_)
        s.add_argument("name", nargs="?")
        s.add_argument("--list", action="store_true")
        _scope_args(s)
        _as_of_arg(s)
        s.add_argument("--format", choices=FORMATS, default="table")
        s.add_argument("--output", help="write to FILE instead of stdout")
        s.set_defaults(handler=handler)

    s = sub.add_parser("import", help="import a .xlsx or .csv file of one kind (- reads stdin)",
                       lazy_epilog=_kind_list, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("kind", help="the kind of records (listed below)")
    s.add_argument("file", help="the .xlsx or .csv file, or - for stdin (XLSX or CSV by content)")
    s.add_argument("--partial", action="store_true", help="write the good rows, save the bad ones")
    s.add_argument("--rejects", help="where --partial saves bad rows (default FILE.rejects.csv; stdout for -)")
    s.add_argument("--encoding", help="CSV encoding (default: detect UTF-8, UTF-8 BOM or GBK)")
    s.add_argument("--correct", action="store_true",
                   help="members only, administrators: apply a change of a member's organization or class as a "
                        "correction without history (audited), for a city's first imports")
    s.set_defaults(handler="core.cli.importing:cmd_import")

    s = sub.add_parser("export", help="export one kind to .xlsx or .csv (same format as import)",
                       lazy_epilog=_kind_list, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("kind", help="the kind of records (listed below)")
    s.add_argument("file", nargs="?", help="the file (default KIND.xlsx in the current folder); - for stdout")
    s.add_argument("--format", choices=["csv", "xlsx"], help="with -: csv (default) or xlsx")
    _scope_args(s, year=False)
    s.set_defaults(handler="core.cli.importing:cmd_export")

    s = sub.add_parser("template", help="write an empty import template",
                       lazy_epilog=_kind_list, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("kind", help="the kind of records (listed below)")
    s.add_argument("file", nargs="?", help="the file (default KIND.xlsx in the current folder); - for stdout")
    s.add_argument("--format", choices=["csv", "xlsx"], help="with -: csv (default) or xlsx")
    s.set_defaults(handler="core.cli.importing:cmd_template")

    s = sub.add_parser("users", help="manage users (admin)")
    us = s.add_subparsers(dest="users_command", parser_class=ArgParser, required=True)
    a = us.add_parser("add")
    a.add_argument("login")
    a.add_argument("--role", required=True, choices=["community", "street", "town", "city", "admin"])
    a.add_argument("--scope", default="city")
    a.add_argument("--read-only", action="store_true")
    a.add_argument("--full-personal-data", action="store_true")
    us.add_parser("list").add_argument("--format", choices=FORMATS, default="table")
    r = us.add_parser("remove")
    r.add_argument("login")
    st = us.add_parser("set")
    st.add_argument("login")
    st.add_argument("--role", choices=["community", "street", "town", "city", "admin"])
    st.add_argument("--scope")
    st.add_argument("--read-only", dest="read_only", action="store_true", default=None)
    st.add_argument("--writable", dest="read_only", action="store_false")
    st.add_argument("--full-personal-data", dest="full_personal_data", action="store_true", default=None)
    st.add_argument("--masked-personal-data", dest="full_personal_data", action="store_false")
    s.set_defaults(handler="core.cli.users:cmd_users")

    s = sub.add_parser("audit", help="show the audit log")
    s.add_argument("--user")
    s.add_argument("--since", help="YYYY-MM-DD")
    s.add_argument("--record", help="TABLE or TABLE:KEY")
    s.add_argument("--limit", type=count_type("--limit", 1, MAX_AUDIT_LIMIT), default=200,
                   help="at most this many rows (default 200)")
    s.add_argument("--format", choices=FORMATS, default="table")
    s.add_argument("--output")
    s.set_defaults(handler="core.cli.audit:cmd_audit")

    s = sub.add_parser("backup", help="consistent copy of the database while others work (admin)")
    s.add_argument("file", nargs="?", help="the backup file (default: a dated file in the backup folder)")
    s.add_argument("--prune", type=count_type("--prune", 1, MAX_PRUNE_DAYS), metavar="DAYS",
                   help="afterwards delete dated backups older than DAYS days (and leftover .part files)")
    s.set_defaults(handler="core.cli.backup:cmd_backup")

    s = sub.add_parser("restore", help="replace the database with a backup (admin)")
    s.add_argument("file")
    s.add_argument("--yes", action="store_true")
    s.set_defaults(handler="core.cli.backup:cmd_restore")
    _refuse_control_characters(p)
    return p


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

    me = access.current()  # identity first: an account with no user record is refused here (SPEC §7)
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

    try:
        setup(args)
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
        print("dangjian: interrupted", file=sys.stderr)
        return 130
    finally:
        from core import access, db

        access.set_current(None)
        db.close()


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

