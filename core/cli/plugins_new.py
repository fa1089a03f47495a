"""``dangjian plugins new NAME --town TOWN [--dir DIR]``: start a town plugin.

Writes ``DIR/NAME.py`` — one example of each hook a town most often uses (a rule, a
scorer, town parameters, a funding split, a record validator, a screen) — and
``DIR/tests/test_NAME.py``, a test on the plugin kit that passes as written, then prints
the config lines that load the plugin and bind it to its town.  Existing files are never
overwritten.  Needs no database: nothing is read or written but the two files.
"""
from __future__ import annotations

import json
import keyword
from pathlib import Path
from string import Template

from core.errors import UserError
from core.i18n import tr

# The templates are text files beside this module (the written plugin is the user's code, not core's).
_TEMPLATES = Path(__file__).with_name("templates")
PLUGIN = Template((_TEMPLATES / "plugin.py.tmpl").read_text(encoding="utf-8"))
TEST = Template((_TEMPLATES / "test_plugin.py.tmpl").read_text(encoding="utf-8"))


def cmd_plugins_new(args) -> int:
    """Write the plugin and its test; print the config lines that load and bind it."""
    from core import i18n, server

    if args.lang:
        i18n.set_lang(args.lang)
    if server.deployment().service:
        raise UserError(tr("服务账号不能创建插件文件", "the service account does not write plugin files"))
    name, town = args.name, (args.town or "").strip()
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise UserError(tr("插件名 {n} 须是 Python 标识符（字母、数字、下划线，不以数字或下划线开头）",
                           "plugin name {n}: a Python identifier is expected (letters, digits, underscores; "
                           "not starting with a digit or an underscore)", n=name))
    if not town or not town.isprintable() or any(ch in town for ch in '"\\'):
        raise UserError(tr("--town：需要区镇名称（不含引号、反斜杠和控制字符）",
                           "--town: a town name is expected (no quotes, backslashes or control characters)"))
    folder = Path(args.dir or ".").expanduser().resolve()
    plugin, test = folder / f"{name}.py", folder / "tests" / f"test_{name}.py"
    existing = [p for p in (plugin, test) if p.exists()]
    if existing:
        raise UserError(tr("已存在，未覆盖：{p}", "already exists, not overwritten: {p}",
                           p=", ".join(str(p) for p in existing)))
    q = {"name": name, "town": town, "town_q": json.dumps(town, ensure_ascii=False),
         "dir_q": json.dumps(str(folder), ensure_ascii=False)}
    try:
        test.parent.mkdir(parents=True, exist_ok=True)
        with open(plugin, "x", encoding="utf-8") as f:  # "x": never over a file made meanwhile
            f.write(PLUGIN.substitute(q))
        with open(test, "x", encoding="utf-8") as f:
            f.write(TEST.substitute(q))
    except OSError as exc:
        raise UserError(tr("无法写入 {p}：{e}", "cannot write {p}: {e}", p=exc.filename or folder,
                           e=exc.strerror or exc)) from None
    print(tr("已写入 {p}", "wrote {p}", p=plugin))
    print(tr("已写入 {p}", "wrote {p}", p=test))
    print()
    print(tr("# 在全市配置文件中（dangjian --config 文件，或 DANGJIAN_CONFIG）加入：",
             "# add to the city's config file (dangjian --config FILE, or DANGJIAN_CONFIG):"))
    print(f"plugin_dirs = [{q['dir_q']}]")
    print()
    print(f'[plugins."{name}"]')
    print(f"towns = [{q['town_q']}]")
    print()
    print(tr("# 然后：dangjian plugins 查看是否加载；pytest {t} 运行测试（需 pip install 'dangjian[test]'）",
             "# then: dangjian plugins to see it loaded; pytest {t} to run its test "
             "(needs pip install 'dangjian[test]')", t=test.parent))
    return 0
