"""Plugin manager (插件管理): built-ins, the ``dangjian`` entry points, then ``plugin_dirs``.

Each external plugin is loaded on its own in a try: one that fails to import,
fails ``check_pending()`` or raises in a hook is reported by name (``dangjian
plugins``, a red banner in the app, stderr) and the rest go on.  Hooks are
called one implementation at a time (:meth:`PluginManager.call_each`), because
pluggy itself isolates nothing.

Going on never means falling back to the city's behaviour:

- a plugin serves the towns it is bound to in config (``[plugins."<module>"]
  towns = [...]``), or the whole city when unbound.  A bound plugin's
  registrations are limited to its towns: a rule or scorer registered for the
  whole city or for a town outside its binding, or a report that replaces an
  existing one, has the plugin refused at load.  Its per-town hooks (funding
  split, town parameters, record validation) are asked only for its towns.
- a plugin that fails to load (or is refused) taints every result of the towns
  it serves; a hook that raises taints the results it feeds (a split: that
  town's funding figures; a scorer: its scores; a validator: that town's rows;
  a rule: its findings; a report: its rows).  Each failure is a
  :class:`Failure` (plugin, file:line, towns, hook, message):
  :func:`current_failures` lists them for the app's banner, :meth:`PluginManager.tainting`
  says which towns a failure taints, and the commands withhold or mark as
  ``error`` what it touches and exit 2.

``DANGJIAN_TRACE_PLUGINS=1`` prints every hook call on stderr, and the
traceback of every hook, rule, scorer or report that raises.
"""
from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import inspect
import os
import sys
import threading
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import pluggy

from core import hookspecs
from core.api import Report, Rule, Scorer

ENTRY_POINT_GROUP = "dangjian"

# The built-in plugins, by module name: imported by name when the plugins load, so core imports
# nothing of the ``plugins`` package (the city's rules are plugins like a town's, not core code).
DEFAULT_PLUGINS = (
    "plugins.rules_org",          # 第3条 org.kind_size
    "plugins.rules_workers",      # 第6–9条 worker.*, train.*, pay.*
    "plugins.rules_service",      # 第11条 service.*
    "plugins.rules_members",      # 第12–13条 member.*
    "plugins.rules_orglife",      # 第13条 orglife.*
    "plugins.rules_dues",         # 第13条 dues.on_time
    "plugins.rules_democracy",    # 第14条 democracy.*
    "plugins.rules_funding",      # 第19条 funding.*
    "plugins.scorers_default",    # the scorers (member points, community score, appraisals)
    "plugins.reports_default",    # the reports
    "plugins.reports_funding",    # 第19条 report funding (with the split)
    "plugins.funding_split_examples",  # 昆山开发区 / 玉山镇 50 % split (worked example)
)

#: hooks asked about one town: a bound plugin is asked only for its towns
PER_TOWN_HOOKS = ("dangjian_funding_split", "dangjian_town_params", "dangjian_validate_record")

LOAD = "load"  # Failure.hook of a plugin that failed to load or was refused


@dataclass
class Failure:
    """One failure of a plugin: it did not load (``hook`` is ``"load"``, or the registration
    hook that raised or reached beyond its towns), or a hook of it raised.

    ``towns`` are the towns whose results it taints (None: the whole city); ``where`` is
    ``file:line`` of the code that failed; ``at`` when it happened (first, in this process)."""
    plugin: str
    hook: str
    message: str
    where: str = ""
    towns: list[str] | None = None
    at_load: bool = False
    at: dt.datetime = field(default_factory=dt.datetime.now, compare=False, repr=False)

    def __hash__(self):
        return hash((self.plugin, self.hook, self.message, self.where))

    def serves(self, town: str | None) -> bool:
        """True when this failure taints results of ``town`` (None: a city-wide roll-up)."""
        return self.towns is None or (town is not None and town in self.towns)

    def towns_text(self) -> str:
        from core.i18n import tr

        return "、".join(self.towns) if self.towns else tr("全市", "the whole city")

    def hook_text(self) -> str:
        from core.i18n import tr

        return tr("加载", "loading") if self.hook == LOAD else self.hook

    def line(self) -> str:
        """One line naming plugin, file:line, towns, hook and message."""
        from core.i18n import tr

        where = f"（{self.where}）" if self.where else ""
        if self.at_load:
            return tr("插件 {p}{w} 加载失败（{h}），{t} 的结果不予计算：{m}",
                      "plugin {p}{w} failed to load ({h}); results of {t} are withheld: {m}",
                      p=self.plugin, w=where if where else "", h=self.hook_text(), t=self.towns_text(),
                      m=self.message)
        return tr("插件 {p}{w} 的 {h} 出错，{t} 受影响的结果不予计算：{m}",
                  "plugin {p}{w}: {h} raised; the results it feeds in {t} are withheld: {m}",
                  p=self.plugin, w=where, h=self.hook_text(), t=self.towns_text(), m=self.message)

    def as_dict(self) -> dict:
        return {"plugin": self.plugin, "where": self.where, "towns": self.towns, "hook": self.hook,
                "message": self.message, "at_load": self.at_load}


class ColumnMessage(str):
    """A validator's message with the column (field name) it belongs under (``""``: the record)."""

    column: str = ""
    plugin: str = ""  # set when the message says that plugin failed (the record could not be checked)

    def __new__(cls, message: str, column: str = "", plugin: str = ""):
        obj = super().__new__(cls, message)
        obj.column = column or ""
        obj.plugin = plugin or ""
        return obj

    def __reduce__(self):  # survives the import's forked worker
        return (ColumnMessage, (str(self), self.column, self.plugin))


@dataclass
class PluginInfo:
    name: str
    source: str  # built-in / entry point / file
    location: str = ""
    hooks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    module: object = None
    towns: list[str] | None = None  # the towns it is bound to in config (None: the whole city)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Replacement:
    kind: str  # rule / scorer / report
    id: str
    by: str  # plugin
    replaced: str | None  # plugin that had it (None: new)
    towns: list[str] | None


class Registry:
    """What the plugins registered: rules, scorers, reports, screens, models."""

    def __init__(self):
        self.rules: dict[str, Rule] = {}  # id -> rule in force everywhere (towns=None)
        self.town_rules: dict[str, dict[str, Rule]] = {}  # id -> {town: rule}
        self.scorers: dict[str, Scorer] = {}
        self.town_scorers: dict[str, dict[str, Scorer]] = {}
        self.reports: dict[str, Report] = {}
        self.report_towns: dict[str, list[str]] = {}  # a bound plugin's report: the towns it serves
        self.screens: list[tuple[str, str, object, str]] = []
        self.models: list = []
        self.replacements: list[Replacement] = []

    def _add(self, kind, key, obj, plugin, everywhere: dict, per_town: dict):
        obj.plugin = plugin
        towns = getattr(obj, "towns", None)
        if towns:
            slot = per_town.setdefault(key, {})
            for t in towns:
                prev = slot.get(t) or everywhere.get(key)
                slot[t] = obj
                self.replacements.append(Replacement(kind, key, plugin, prev.plugin if prev else None, list(towns)))
        else:
            prev = everywhere.get(key)
            everywhere[key] = obj
            if prev is not None:
                self.replacements.append(Replacement(kind, key, plugin, prev.plugin, None))

    def add_rule(self, rule, plugin):
        if not isinstance(rule, Rule):
            raise TypeError(f"register() expects a core.Rule, got {type(rule).__name__}")
        self._add("rule", rule.id, rule, plugin, self.rules, self.town_rules)

    def add_scorer(self, scorer, plugin):
        if not isinstance(scorer, Scorer):
            raise TypeError(f"register() expects a core.Scorer, got {type(scorer).__name__}")
        self._add("scorer", scorer.name, scorer, plugin, self.scorers, self.town_scorers)

    def add_report(self, report, plugin):
        if not isinstance(report, Report):
            raise TypeError(f"register() expects a core.Report, got {type(report).__name__}")
        self._add("report", report.name, report, plugin, self.reports, {})

    def rule_ids(self) -> list[str]:
        return sorted(set(self.rules) | set(self.town_rules))

    def rule_for(self, rule_id: str, town: str | None) -> Rule | None:
        """The rule in force for ``town`` (a town-only replacement wins there)."""
        if town and town in self.town_rules.get(rule_id, {}):
            return self.town_rules[rule_id][town]
        return self.rules.get(rule_id)

    def rule_variants(self, rule_id: str) -> list[Rule]:
        """Every distinct Rule object registered under ``rule_id``."""
        out = []
        for r in [self.rules.get(rule_id), *self.town_rules.get(rule_id, {}).values()]:
            if r is not None and all(r is not o for o in out):
                out.append(r)
        return out

    def scorer_for(self, name: str, town: str | None) -> Scorer | None:
        if town and town in self.town_scorers.get(name, {}):
            return self.town_scorers[name][town]
        return self.scorers.get(name)

    def scorer_names(self) -> list[str]:
        return sorted(set(self.scorers) | set(self.town_scorers))


class PluginManager:
    def __init__(self, bindings: dict | None = None):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.infos: list[PluginInfo] = []
        self.registry = Registry()
        self.kinds: dict = {}
        self.trace = os.environ.get("DANGJIAN_TRACE_PLUGINS") == "1"
        self.bindings: dict[str, list[str]] = dict(bindings or {})  # plugin name -> towns it serves
        self.failures: list[Failure] = []  # every failure so far, each once
        self._local = threading.local()  # the watchers of this thread (:meth:`watch`)
        self._lock = threading.Lock()
        # for core.plugin_status: the hooks that ran without failing, by (plugin, hook): the towns
        # (None among them: the whole city); the failures already kept; the loads already told
        self._ran: dict[tuple[str, str], set] = {}
        self._kept: set[int] = set()
        self._loads_told = False

    # ------------------------------------------------------------ bindings
    def binding(self, *names) -> list[str] | None:
        """The towns a plugin (by any of its names) is bound to; None: the whole city."""
        for n in names:
            if n and n in self.bindings:
                return list(self.bindings[n])
        return None

    def towns_of(self, plugin: str) -> list[str] | None:
        info = self.info(plugin)
        return info.towns if info is not None else self.binding(plugin)

    # ------------------------------------------------------------ failures
    def _record(self, failure: Failure) -> Failure:
        with self._lock:
            same = next((f for f in self.failures if f.as_dict() == failure.as_dict()), None)
            if same is None:
                self.failures.append(failure)
            failure = same or failure
        for seen in getattr(self._local, "watchers", ()):
            seen.append(failure)
        info = self.info(failure.plugin)
        text = failure.message if failure.at_load else f"{failure.hook} raised {failure.message}" + (
            f" ({failure.where})" if failure.where else "")
        if info is not None and text not in info.errors:
            info.errors.append(text)
        return failure

    def adopt(self, failures) -> list[Failure]:
        """Record failures seen in a forked worker (:mod:`core.procs`) as if they happened here."""
        return [self._record(f) for f in failures]

    def load_failed(self, info: PluginInfo, hook: str, message: str, where: str = "") -> Failure:
        """Record that ``info``'s plugin did not load (or was refused): it taints its towns."""
        if info not in self.infos:
            self.infos.append(info)
        return self._record(Failure(info.name, hook, message, where, info.towns, at_load=True))

    def hook_error(self, plugin: str, hook_name: str, exc: BaseException, towns: list[str] | None = None,
                   town: str | None = None) -> Failure:
        """Record that ``plugin``'s ``hook_name`` raised ``exc``; ``towns`` (or ``town``) are the towns
        whose results it fed (default: the towns the plugin serves)."""
        if town is not None and towns is None:
            towns = [town]
        if towns is None:
            towns = self.towns_of(plugin)
        info = self.info(plugin)
        where = _where(exc, getattr(info, "module", None))
        if self.trace:
            print(f"[dangjian plugins] {plugin}: {hook_name} raised", file=sys.stderr)
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        return self._record(Failure(plugin, hook_name, repr(exc), where, sorted(towns) if towns else None))

    def ran(self, plugin: str, hook: str, towns=None) -> None:
        """Note that ``plugin``'s ``hook`` (named as a :class:`Failure` names it) ran for ``towns``
        (None: the whole city; ``""`` in it: a record of no town) without failing: the plugin
        status (:mod:`core.plugin_status`) then forgets its last failure there."""
        slot = self._ran.setdefault((plugin, hook), set())
        if towns is None:
            slot.add(None)
        else:
            slot.update(towns)

    def status_pending(self) -> tuple[list[Failure], dict, set]:
        """For :func:`core.plugin_status.save`: (the failures not kept yet, the hooks that ran
        without failing since the last call, the plugins that loaded — told once)."""
        with self._lock:
            new = [f for f in self.failures if id(f) not in self._kept]
            ran, self._ran = self._ran, {}
            loaded: set = set()
            if not self._loads_told:
                self._loads_told = True
                failed = {f.plugin for f in self.failures if f.at_load}
                loaded = {i.name for i in self.infos if i.name not in failed}
        return new, ran, loaded

    def checkpoint(self):
        """``restore()``: forget the failures recorded, and the hooks noted as run, since this call
        (work done in part and then done again whole, so that nothing is told twice)."""
        with self._lock:
            n, ran = len(self.failures), {k: set(v) for k, v in self._ran.items()}
            errors = [(info, len(info.errors)) for info in self.infos]

        def restore() -> None:
            with self._lock:
                del self.failures[n:]
                self._ran = ran
                for info, k in errors:
                    del info.errors[k:]
        return restore

    def ran_so_far(self) -> dict:
        """What :meth:`ran` noted and no one took yet (a forked worker sends it to its parent)."""
        with self._lock:
            return {k: set(v) for k, v in self._ran.items()}

    def adopt_ran(self, ran: dict) -> None:
        """Note the hooks a forked worker ran without failing (:meth:`ran_so_far` there)."""
        for (plugin, hook), towns in ran.items():
            slot = self._ran.setdefault((plugin, hook), set())
            slot.update(towns)

    def status_kept(self, failures) -> None:
        with self._lock:
            self._kept.update(id(f) for f in failures)

    def replay(self, failure: Failure) -> None:
        """Tell this thread's watchers (:meth:`watch`) of ``failure`` without recording it as a
        failure of this process: one kept in a stored check run whose findings are read now.  Those
        findings are errors, so what is computed from them is withheld as if the hook had raised
        here."""
        for seen in getattr(self._local, "watchers", ()):
            seen.append(failure)

    @contextmanager
    def watch(self):
        """``with manager.watch() as seen:`` — the failures recorded inside (this thread)."""
        seen: list[Failure] = []
        stack = self._local.__dict__.setdefault("watchers", [])
        stack.append(seen)
        try:
            yield seen
        finally:
            for i in range(len(stack) - 1, -1, -1):
                if stack[i] is seen:
                    del stack[i]
                    break

    def load_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.at_load]

    def tainting(self, town: str | None) -> list[Failure]:
        """The load failures that taint every result of ``town`` (None: the city's roll-ups, which
        every load failure taints)."""
        return [f for f in self.failures if f.at_load and (town is None or f.serves(town))]

    def tainted_towns(self, towns) -> dict[str, list[Failure]]:
        """{town: [load failures]} for the ``towns`` whose results are withheld."""
        out = {}
        for t in sorted(set(towns)):
            fs = self.tainting(t)
            if fs:
                out[t] = fs
        return out

    # ------------------------------------------------------------ loading
    def _new_info(self, name, source, location, *aliases) -> PluginInfo:
        return PluginInfo(name, source, location, towns=self.binding(name, *aliases))

    def _register(self, module, info: PluginInfo) -> bool:
        try:
            self.pm.register(module, name=info.name)
        except pluggy.PluginValidationError as exc:  # an argument the hookspec does not have
            self.load_failed(info, LOAD, f"hooks do not match the specs: {exc}", _bad_impl_where(self.pm, module))
            return False
        except Exception as exc:  # duplicate name
            self.load_failed(info, LOAD, f"register: {exc}", _file_of(module))
            return False
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(module)
            self.load_failed(info, LOAD, f"hooks do not match the specs: {exc}", _bad_impl_where(self.pm, module))
            return False
        info.module = module
        info.hooks = sorted(h.name for h in (self.pm.get_hookcallers(module) or []))
        self.infos.append(info)
        return True

    def load_builtins(self):
        for modname in DEFAULT_PLUGINS:
            info = self._new_info(modname, "built-in", modname)
            try:
                module = importlib.import_module(modname)
            except Exception as exc:
                self.load_failed(info, LOAD, f"import failed: {exc!r}", _where(exc))
                continue
            self._register(module, info)

    def load_entry_points(self):
        try:
            eps = entry_points(group=ENTRY_POINT_GROUP)
        except Exception:  # pragma: no cover
            eps = []
        for ep in eps:
            info = self._new_info(ep.name, "entry point", ep.value, ep.value.partition(":")[0])
            try:
                module = ep.load()
            except Exception as exc:
                self.load_failed(info, LOAD, f"import failed: {exc!r}", _where(exc))
                continue
            self._register(module, info)

    def load_dir(self, folder: Path):
        folder = Path(folder)
        if not folder.is_dir():
            info = self._new_info(str(folder), "file", str(folder))
            self.load_failed(info, LOAD, f"plugin folder {folder} does not exist", str(folder))
            return
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            name = f"dangjian_plugin_{path.stem}"
            info = self._new_info(path.stem, "file", str(path), name, path.name)
            try:
                spec = importlib.util.spec_from_file_location(name, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
            except Exception as exc:
                sys.modules.pop(name, None)
                self.load_failed(info, LOAD, f"import failed: {exc!r}", _where(exc, path))
                continue
            self._register(module, info)

    # ------------------------------------------------------------ calling
    def info(self, name: str) -> PluginInfo | None:
        for i in self.infos:
            if i.name == name:
                return i
        return None

    def _asks(self, plugin: str, hook_name: str, kwargs: dict) -> bool:
        """A bound plugin's per-town hooks are asked only for its towns."""
        if hook_name not in PER_TOWN_HOOKS:
            return True
        towns = self.towns_of(plugin)
        return towns is None or kwargs.get("town") in towns

    def calls(self, hook_name: str, **kwargs):
        """Call every implementation of ``hook_name`` on its own; yield (plugin, result, exc):
        ``exc`` is the exception it raised (recorded as a failure of the plugin), else None.

        Order is pluggy's: the last registered first (town plugins before built-ins)."""
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            if not self._asks(impl.plugin_name, hook_name, kwargs):
                continue
            args = {a: kwargs[a] for a in impl.argnames if a in kwargs}
            if self.trace:
                print(f"[dangjian plugins] {impl.plugin_name}.{hook_name}({', '.join(args)})", file=sys.stderr)
            try:
                result = impl.function(**args)
            except Exception as exc:
                self.hook_error(impl.plugin_name, hook_name, exc, town=kwargs.get("town"))
                yield impl.plugin_name, None, exc
                continue
            self.ran(impl.plugin_name, hook_name, (kwargs.get("town") or "",))
            yield impl.plugin_name, result, None

    def call_each(self, hook_name: str, **kwargs):
        """Like :meth:`calls`, without the implementations that raised: yield (plugin, result)."""
        for plugin, result, exc in self.calls(hook_name, **kwargs):
            if exc is None:
                yield plugin, result

    def first_result(self, hook_name: str, **kwargs):
        for _plugin, result in self.call_each(hook_name, **kwargs):
            if result is not None:
                return result
        return None

    def collect_registrations(self):
        """Rules, scorers and reports, in load order (later plugins replace earlier ones).  A bound
        plugin whose registrations reach beyond its towns is refused: none of them count and it
        is a load failure of its towns."""
        reg = self.registry
        order = [("dangjian_register_rules", reg.add_rule, Rule), ("dangjian_register_scorers", reg.add_scorer, Scorer),
                 ("dangjian_register_reports", reg.add_report, Report)]
        staged = []  # (hook name, adder, plugin, impl, objects)
        for hook_name, adder, cls in order:
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                got: list = []

                def register(obj, _got=got, _cls=cls):
                    if not isinstance(obj, _cls):
                        raise TypeError(f"register() expects a core.{_cls.__name__}, got {type(obj).__name__}")
                    _got.append(obj)
                try:
                    impl.function(register=register)
                except Exception as exc:  # what it registered before raising still counts; its towns are tainted
                    info = self.info(impl.plugin_name)
                    if info is not None:
                        self.load_failed(info, hook_name, f"{hook_name} raised {exc!r}",
                                         _where(exc, getattr(info, "module", None)))
                staged.append((hook_name, adder, impl.plugin_name, impl, got))
        refused = self._refusals(staged)
        for _hook, adder, plugin, _impl, got in staged:
            if plugin in refused:
                continue
            for obj in got:
                adder(obj, plugin)
                if isinstance(obj, Report) and self.towns_of(plugin) is not None:
                    reg.report_towns[obj.name] = self.towns_of(plugin)

    def _refusals(self, staged) -> set:
        from core.i18n import tr

        earlier_reports = {}
        refused: dict[str, tuple[str, str, str]] = {}
        for hook_name, _adder, plugin, impl, got in staged:
            towns = self.towns_of(plugin)
            for obj in got:
                if isinstance(obj, Report):
                    if towns is not None and obj.name in earlier_reports and plugin not in refused:
                        refused[plugin] = (hook_name, tr(
                            "插件只服务 {t}，却替换了全市的报表 {n}", "the plugin serves only {t} but replaces the "
                            "city's report {n}", t="、".join(towns), n=obj.name), _code_where(impl.function))
                    earlier_reports.setdefault(obj.name, plugin)
                    continue
                if towns is None or plugin in refused:
                    continue
                what = tr("规则", "rule") if isinstance(obj, Rule) else tr("评分", "scorer")
                key = obj.id if isinstance(obj, Rule) else obj.name
                if not obj.towns:
                    refused[plugin] = (hook_name, tr(
                        "插件只服务 {t}，却为全市登记了{w} {k}（应写 towns=[…]，限于本插件的区镇）",
                        "the plugin serves only {t} but registers {w} {k} for the whole city (give towns=[…] "
                        "within its towns)", t="、".join(towns), w=what, k=key), _code_where(impl.function))
                elif set(obj.towns) - set(towns):
                    refused[plugin] = (hook_name, tr(
                        "插件只服务 {t}，却为 {o} 登记了{w} {k}", "the plugin serves only {t} but registers {w} {k} "
                        "for {o}", t="、".join(towns), o="、".join(sorted(set(obj.towns) - set(towns))), w=what,
                        k=key), _code_where(impl.function))
        for plugin, (hook_name, message, where) in refused.items():
            info = self.info(plugin)
            if info is None:
                continue
            if info.module is not None:
                try:
                    self.pm.unregister(info.module)
                except Exception:  # pragma: no cover
                    pass
            self.load_failed(info, hook_name, tr("已拒绝加载：", "refused at load: ") + message, where)
        return set(refused)

    def collect_models(self) -> list:
        out = []
        for impl in self.pm.hook.dangjian_register_models.get_hookimpls():
            try:
                impl.function(register=out.append)
            except Exception as exc:
                self.hook_error(impl.plugin_name, "dangjian_register_models", exc)
                continue
            self.ran(impl.plugin_name, "dangjian_register_models")
        return out

    def collect_kinds(self) -> dict:
        """Record kinds declared through ``dangjian_register_kinds`` ({name: Kind}), in load order;
        a declaration that cannot work is reported against its plugin and left out."""
        out: dict = {}
        for impl in self.pm.hook.dangjian_register_kinds.get_hookimpls():
            plugin = impl.plugin_name

            def register(kind, _plugin=plugin):
                if not callable(getattr(kind, "check", None)):
                    raise ValueError(f"register() takes a core.kinds.Kind, not {type(kind).__name__}")
                kind.check()
                if kind.name in out:
                    raise ValueError(f"kind {kind.name} is declared twice")
                kind.plugin = _plugin
                out[kind.name] = kind
            try:
                impl.function(register=register)
            except Exception as exc:
                self.hook_error(plugin, "dangjian_register_kinds", exc)
                continue
            self.ran(plugin, "dangjian_register_kinds")
        self.kinds = out
        return out

    def collect_screens(self) -> list[tuple[str, str, object, str]]:
        """(name, title, factory, plugin) for each screen registered (UI start only)."""
        out = []
        for impl in self.pm.hook.dangjian_register_screens.get_hookimpls():
            plugin = impl.plugin_name
            try:
                impl.function(register=lambda name, title, factory, _p=plugin: out.append((name, title, factory, _p)))
            except Exception as exc:
                self.hook_error(plugin, "dangjian_register_screens", exc)
                continue
            self.ran(plugin, "dangjian_register_screens")
        return out

    def town_params(self, town: str) -> dict:
        return {rid: dict(p) for rid, (p, _src) in self.town_params_sources(town).items()}

    def town_params_sources(self, town: str) -> dict:
        """{rule id: ({param: value}, {param: plugin that set it})} from ``dangjian_town_params(town)``."""
        merged: dict = {}
        # built-ins first, town plugins last so they win
        for plugin, result in reversed(list(self.call_each("dangjian_town_params", town=town))):
            if result:
                for rid, params in result.items():
                    values, src = merged.setdefault(rid, ({}, {}))
                    values.update(params)
                    src.update({k: plugin for k in params})
        return merged

    def funding_split(self, town, community, year, amount):
        return self.first_result("dangjian_funding_split", town=town, community=community, year=year,
                                 amount=amount)

    def validate_record(self, kind: str, record: dict, town: str | None = None,
                        community=None) -> list[ColumnMessage]:
        """Every plugin's ``dangjian_validate_record`` messages for a parsed record, each a
        :class:`ColumnMessage` (a string with the ``column`` it belongs under).

        ``town`` / ``community`` (a code or an id) are looked up from the record when not given.
        A record of a town whose results a failed plugin taints gets a message naming that
        plugin, and so does one whose validator raised: the row is refused, never let through
        unchecked."""
        from core.i18n import tr

        impls = self.pm.hook.dangjian_validate_record.get_hookimpls()
        if not impls and not self.load_failures():
            return []
        if (town is None or (community is not None and not isinstance(community, str))) and _place_of is not None:
            town, community = _place_of(kind, record, town, community)
        out: list[ColumnMessage] = []
        for f in self.tainting(town) if town is not None else self.load_failures():
            if town is None and f.towns is not None:
                continue  # a record of no town: only the plugins serving the whole city taint it
            out.append(ColumnMessage(tr("插件 {p}（{w}）加载失败，{t} 的记录无法检查：{m}",
                                        "plugin {p} ({w}) failed to load; records of {t} cannot be checked: {m}",
                                        p=f.plugin, w=f.where or "?", t=f.towns_text(), m=f.message),
                                     plugin=f.plugin))
        if out:
            return out
        for plugin, result, exc in self.calls("dangjian_validate_record", kind=kind, record=record, town=town,
                                              community=community):
            if exc is not None:
                out.append(ColumnMessage(tr("插件 {p} 的 dangjian_validate_record 出错，未能检查此行：{e}",
                                            "plugin {p}: dangjian_validate_record raised and did not check this "
                                            "row: {e}", p=plugin, e=repr(exc)), plugin=plugin))
                continue
            for msg in result or []:
                out.append(_column_message(kind, msg))
        return out

    def errors(self) -> list[tuple[str, str]]:
        return [(i.name, e) for i in self.infos for e in i.errors]


def _column_message(kind: str, msg) -> ColumnMessage:
    """A validator's answer item: a string, or ``(column, message)`` where column is a field name
    or a column header (Chinese or English; :mod:`core.validators` maps a header to its field)."""
    if isinstance(msg, (tuple, list)) and len(msg) == 2:
        return ColumnMessage(str(msg[1]), str(msg[0] or ""))
    return ColumnMessage(str(msg))


#: ``(kind, record, town, community) -> (town, community code)``: where a record belongs, set by
#: :mod:`core.validators` (which knows the kinds' paths to their community) when it is imported
_place_of = None


def set_place_resolver(fn) -> None:
    """Called by :mod:`core.validators`: how :meth:`PluginManager.validate_record` finds a record's
    town and community when its caller does not give them."""
    global _place_of
    _place_of = fn


def _file_of(module) -> str:
    return str(getattr(module, "__file__", "") or getattr(module, "__name__", ""))


def _code_where(fn) -> str:
    code = getattr(fn, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code is not None else ""


def _where(exc: BaseException, module_or_path=None) -> str:
    """``file:line`` of the failure: a syntax error's own place, else the deepest frame in the
    plugin's file (``module_or_path``), else the deepest frame."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    tb = traceback.extract_tb(exc.__traceback__)
    if not tb:
        return ""
    path = module_or_path if isinstance(module_or_path, (str, Path)) else getattr(module_or_path, "__file__", None)
    if path:
        mine = [fr for fr in tb if Path(fr.filename) == Path(path)]
        if mine:
            return f"{mine[-1].filename}:{mine[-1].lineno}"
    return f"{tb[-1].filename}:{tb[-1].lineno}"


def _bad_impl_where(pm, module) -> str:
    """``file:line`` of a hookimpl that names an unknown hook or an argument its hookspec lacks."""
    marker = f"{hookspecs.PROJECT}_impl"
    for name, fn in inspect.getmembers(module, callable):
        if getattr(fn, marker, None) is None:
            continue
        hook = getattr(pm.hook, name, None)
        spec = getattr(hook, "spec", None) if hook is not None else None
        try:
            args = [p for p in inspect.signature(fn).parameters]
        except (TypeError, ValueError):  # pragma: no cover
            args = []
        if spec is None or set(args) - set(spec.argnames):
            return _code_where(fn)
    return _file_of(module)


_manager: PluginManager | None = None


def bindings(config=None) -> dict[str, list[str]]:
    """``[plugins."<module>"] towns = [...]`` of the config: {plugin name: towns}."""
    from core import config as config_mod

    config = config or config_mod.get()
    out = {}
    for name, sec in (config.get("plugins", {}) or {}).items():
        if isinstance(sec, dict) and isinstance(sec.get("towns"), list):
            out[name] = [str(t) for t in sec["towns"]]
    return out


def load(config=None) -> PluginManager:
    """Build the plugin manager: built-ins, entry points, then config's plugin_dirs."""
    global _manager
    from core import config as config_mod

    config = config or config_mod.get()
    m = PluginManager(bindings(config))
    m.load_builtins()
    m.load_entry_points()
    for folder in config.plugin_dirs:
        m.load_dir(folder)
    m.collect_registrations()
    m.collect_kinds()
    if m.load_failures():
        m.pm.register(_FailedPlugins(), name="dangjian.failed_plugins")  # imports ask the validators then
    _manager = m
    return m


class _FailedPlugins:
    """Registered only when a plugin failed to load: makes every import ask
    :meth:`PluginManager.validate_record`, which refuses the rows of the towns it served."""

    @hookspecs.hookimpl
    def dangjian_validate_record(self, kind, record):
        return None


_load_lock = threading.Lock()


def get() -> PluginManager:
    """The loaded plugin manager, loading it on first use (once, even from two threads:
    the terminal app loads plugins after its first paint while a worker may ask)."""
    if _manager is not None:
        return _manager
    with _load_lock:
        return _manager or load()


def reset() -> None:
    global _manager
    _manager = None


def get_loaded() -> PluginManager | None:
    """The plugin manager if the plugins are loaded, else None (nothing is loaded)."""
    return _manager


def current_failures() -> list[dict]:
    """The plugin failures of this process, for a red banner: each ``{"plugin", "where"
    (file:line), "towns" (None: the whole city), "hook", "message", "at_load"}``; empty when
    all is well (or before the plugins are loaded).  Those of every command and of the app are
    kept in the database (:mod:`core.plugin_status`)."""
    m = _manager
    return [f.as_dict() for f in m.failures] if m is not None else []


def withheld_line(town, f) -> str:
    """One line: what failure ``f`` withheld in ``town`` (None: the city's roll-ups), naming plugin,
    file:line, town and hook."""
    from core.i18n import tr

    where = f"（{f.where}）" if f.where else ""
    return tr("{t} 的结果未计算：插件 {p}{w} 的 {h} 失败：{m}", "results of {t} withheld: plugin {p}{w}, {h} failed: {m}",
              t=town or tr("全市", "the city"), p=f.plugin, w=where, h=f.hook_text(), m=f.message)


def failure_lines(failures) -> list[str]:
    return [f.line() for f in failures]


def check_config(cfg=None, manager=None) -> None:
    """Validate the config's rule and scorer sections against what the plugins registered
    (ConfigError names the file and key), and its plugin bindings; defaults: the loaded
    config and plugin manager."""
    from core import config

    cfg = cfg or config.get()
    manager = manager or get()
    _check_bindings(cfg)
    reg = manager.registry
    known = {}
    for rid in reg.rule_ids():
        for rule in reg.rule_variants(rid):
            known.setdefault(rid, {}).update(rule.params or {})
    if known:  # before any rule is registered (a bare install) there is nothing to check against
        cfg.validate_rule_params(known)
    scorers = {}
    for name in reg.scorer_names():
        for scorer in [reg.scorers.get(name), *reg.town_scorers.get(name, {}).values()]:
            if scorer is not None:
                scorers.setdefault(name, {}).update(getattr(scorer, "params", None) or {})
    if scorers:
        cfg.validate_scoring(scorers)


def _check_bindings(cfg) -> None:
    from core.config import ConfigError

    for path, raw in cfg.sources[1:]:
        sec = raw.get("plugins", {})
        if not isinstance(sec, dict):
            raise ConfigError(f"{path}: plugins: a table of [plugins.\"<module>\"] sections is expected")
        for name, body in sec.items():
            if not isinstance(body, dict) or set(body) - {"towns"}:
                raise ConfigError(f"{path}: [plugins.\"{name}\"]: only towns = [\"…\"] is allowed")
            towns = body.get("towns")
            if not (isinstance(towns, list) and towns and all(isinstance(t, str) and t for t in towns)):
                raise ConfigError(f"{path}: [plugins.\"{name}\"] towns: a list of town names is expected")


def registered_models() -> list:
    return get().collect_models()


# ====================================================================== findings (the rule engine's side)

def _error_from(f, failure):
    from core.api import Finding
    from core.i18n import tr

    where = f"（{failure.where}）" if failure.where else ""
    msg = tr("未计算：插件 {p}{w} 的 {h} 失败（{t}）：{m}", "not computed: plugin {p}{w}, {h} failed ({t}): {m}",
             p=failure.plugin, w=where, h=failure.hook_text(), t=failure.towns_text(), m=failure.message)
    return Finding(rule=f.rule, clause=f.clause, status="error", town=f.town, community=f.community, subject=f.subject,
                   message=msg, evidence={"plugin": failure.plugin, "hook": failure.hook, "where": failure.where,
                                          "towns": failure.towns, "error": failure.message})


def taint_findings(findings, failures, scope_towns=None) -> list:
    """``findings`` with each one that ``failures`` taint turned into one ``error`` finding per
    subject naming the plugin, town and hook (never computed by the city's rules instead).

    A finding of a town is tainted by a failure serving that town; a roll-up of the city
    (no town) by any failure serving a town of ``scope_towns`` (default: every failure)."""
    if not failures:
        return list(findings)
    out, seen = [], set()
    for f in findings:
        if f.rule == "plugin" or f.status == "error":  # already says what failed
            out.append(f)
            continue
        hit = None
        for fl in failures:
            if f.town is not None:
                if fl.serves(f.town):
                    hit = fl
                    break
            elif scope_towns is None or fl.towns is None or set(fl.towns) & set(scope_towns):
                hit = fl
                break
        if hit is None:
            out.append(f)
            continue
        key = (f.rule, f.town, f.community, f.subject)
        if key in seen:
            continue
        seen.add(key)
        out.append(_error_from(f, hit))
    return out


def rule_raised(rule, exc, communities, whole_city) -> list:
    """A rule whose ``evaluate`` raised: recorded against its plugin (the traceback printed under
    ``DANGJIAN_TRACE_PLUGINS=1``), and one ``error`` finding per community it ran for — plus
    the city's roll-up for a whole-city run — naming rule, plugin and where."""
    from core.api import Finding
    from core.i18n import tr

    manager = get()
    towns = sorted({c.town for c in communities})
    failure = manager.hook_error(rule.plugin or "?", f"rule {rule.id}", exc, towns=towns or rule.towns)
    msg = tr("规则 {r}（插件 {p}）运行出错：{e}", "rule {r} (plugin {p}) raised: {e}",
             r=rule.id, p=rule.plugin or "?", e=f"{type(exc).__name__}: {exc}")
    ev = {"plugin": rule.plugin or "?", "hook": failure.hook, "exception": repr(exc), "where": failure.where,
          "towns": failure.towns}
    out = [Finding(rule=rule.id, clause=rule.clause, status="error", town=c.town, community=c.code, subject=c.code,
                   message=msg, evidence=dict(ev)) for c in communities]
    if whole_city or not communities:
        subject = "city" if rule.towns is None else "、".join(rule.towns)
        town = None if rule.towns is None or len(rule.towns) != 1 else rule.towns[0]
        out.append(Finding(rule=rule.id, clause=rule.clause, status="error", town=town, community=None,
                           subject=subject, message=msg, evidence=dict(ev)))
    return out


def plugin_findings(failures) -> list:
    """One ``error`` finding (rule ``plugin``, subject the plugin) per failure, stored with the
    check run so ``dangjian plugins`` can show the last ones."""
    from core.api import Finding
    from core.i18n import tr

    out = []
    for fl in failures:
        town = fl.towns[0] if fl.towns and len(fl.towns) == 1 else None
        out.append(Finding(rule="plugin", clause=None, status="error", town=town, community=None, subject=fl.plugin,
                           message=tr("插件 {p} 出错：{e}", "plugin {p} failed: {e}", p=fl.plugin,
                                      e=fl.line()),
                           evidence={"plugin": fl.plugin, "hook": fl.hook, "where": fl.where, "towns": fl.towns,
                                     "error": fl.message, "at_load": fl.at_load}))
    return out


def relevant(failures, scope_towns, whole_city: bool) -> list:
    """The failures (each once) that touch a run over ``scope_towns`` (all of them for a whole-city run)."""
    out = []
    for f in failures:
        if f not in out and (whole_city or f.towns is None or set(f.towns) & set(scope_towns)):
            out.append(f)
    return out
