"""Plugin manager (插件管理): built-ins, the ``dangjian`` entry points, then ``plugin_dirs``.

Each external plugin is loaded on its own in a try: one that fails to import,
fails ``check_pending()`` or raises in a hook is reported by name
(``dangjian plugins``, a notice in the UI, an ``error`` finding in ``check``)
and the rest go on.  Hooks are called one implementation at a time
(:func:`call_each`), because pluggy itself isolates nothing.
``DANGJIAN_TRACE_PLUGINS=1`` prints every hook call on stderr.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
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
    "plugins.scorers_default",    # SPEC §4 scorers
    "plugins.reports_default",    # SPEC §6 reports
    "plugins.reports_funding",    # 第19条 report funding (with the split)
    "plugins.funding_split_examples",  # 昆山开发区 / 玉山镇 50 % split (worked example)
)


@dataclass
class PluginInfo:
    name: str
    source: str  # built-in / entry point / file
    location: str = ""
    hooks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    module: object = None

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
    def __init__(self):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.infos: list[PluginInfo] = []
        self.registry = Registry()
        self.kinds: dict = {}
        self.trace = os.environ.get("DANGJIAN_TRACE_PLUGINS") == "1"

    # ------------------------------------------------------------ loading
    def _register(self, module, info: PluginInfo) -> bool:
        try:
            self.pm.register(module, name=info.name)
        except pluggy.PluginValidationError as exc:  # an argument the hookspec does not have
            info.errors.append(f"hooks do not match the specs: {exc}")
            self.infos.append(info)
            return False
        except Exception as exc:  # duplicate name
            info.errors.append(f"register: {exc}")
            self.infos.append(info)
            return False
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(module)
            info.errors.append(f"hooks do not match the specs: {exc}")
            self.infos.append(info)
            return False
        info.module = module
        info.hooks = sorted(h.name for h in (self.pm.get_hookcallers(module) or []))
        self.infos.append(info)
        return True

    def load_builtins(self):
        for modname in DEFAULT_PLUGINS:
            info = PluginInfo(modname, "built-in", modname)
            try:
                module = importlib.import_module(modname)
            except Exception as exc:
                info.errors.append(f"import failed: {exc!r}")
                self.infos.append(info)
                continue
            self._register(module, info)

    def load_entry_points(self):
        try:
            eps = entry_points(group=ENTRY_POINT_GROUP)
        except Exception:  # pragma: no cover
            eps = []
        for ep in eps:
            info = PluginInfo(ep.name, "entry point", ep.value)
            try:
                module = ep.load()
            except Exception as exc:
                info.errors.append(f"import failed: {exc!r}")
                self.infos.append(info)
                continue
            self._register(module, info)

    def load_dir(self, folder: Path):
        folder = Path(folder)
        if not folder.is_dir():
            self.infos.append(PluginInfo(str(folder), "file", str(folder),
                                         errors=[f"plugin folder {folder} does not exist"]))
            return
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            name = f"dangjian_plugin_{path.stem}"
            info = PluginInfo(path.stem, "file", str(path))
            try:
                spec = importlib.util.spec_from_file_location(name, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
            except Exception as exc:
                sys.modules.pop(name, None)
                info.errors.append(f"import failed: {exc!r}")
                self.infos.append(info)
                continue
            self._register(module, info)

    # ------------------------------------------------------------ calling
    def info(self, name: str) -> PluginInfo | None:
        for i in self.infos:
            if i.name == name:
                return i
        return None

    def call_each(self, hook_name: str, **kwargs):
        """Call every implementation of ``hook_name`` on its own; yield (plugin, result).

        Order is pluggy's: the last registered first (town plugins before built-ins).
        An implementation that raises is recorded against its plugin and skipped.
        """
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            args = {a: kwargs[a] for a in impl.argnames if a in kwargs}
            if self.trace:
                print(f"[dangjian plugins] {impl.plugin_name}.{hook_name}({', '.join(args)})", file=sys.stderr)
            try:
                yield impl.plugin_name, impl.function(**args)
            except Exception as exc:
                self.hook_error(impl.plugin_name, hook_name, exc)

    def hook_error(self, plugin: str, hook_name: str, exc: BaseException):
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        msg = f"{hook_name} raised {exc!r}{where}"
        info = self.info(plugin)
        if info is not None and msg not in info.errors:
            info.errors.append(msg)

    def first_result(self, hook_name: str, **kwargs):
        for _plugin, result in self.call_each(hook_name, **kwargs):
            if result is not None:
                return result
        return None

    def collect_registrations(self):
        reg = self.registry
        order = [("dangjian_register_rules", reg.add_rule), ("dangjian_register_scorers", reg.add_scorer),
                 ("dangjian_register_reports", reg.add_report)]
        for hook_name, adder in order:
            hook = getattr(self.pm.hook, hook_name)
            # registration runs in load order (built-ins first) so later plugins replace earlier ones
            for impl in hook.get_hookimpls():
                plugin = impl.plugin_name

                def register(obj, _plugin=plugin, _adder=adder):
                    _adder(obj, _plugin)
                try:
                    impl.function(register=register)
                except Exception as exc:
                    self.hook_error(plugin, hook_name, exc)

    def collect_models(self) -> list:
        out = []
        for impl in self.pm.hook.dangjian_register_models.get_hookimpls():
            try:
                impl.function(register=out.append)
            except Exception as exc:
                self.hook_error(impl.plugin_name, "dangjian_register_models", exc)
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
        return out

    def town_params(self, town: str) -> dict:
        merged: dict = {}
        # built-ins first, town plugins last so they win
        for _plugin, result in reversed(list(self.call_each("dangjian_town_params", town=town))):
            if result:
                for rid, params in result.items():
                    merged.setdefault(rid, {}).update(params)
        return merged

    def funding_split(self, town, community, year, amount):
        return self.first_result("dangjian_funding_split", town=town, community=community, year=year,
                                 amount=amount)

    def validate_record(self, kind: str, record: dict) -> list[str]:
        errors: list[str] = []
        for plugin, result in self.call_each("dangjian_validate_record", kind=kind, record=record):
            for msg in result or []:
                errors.append(str(msg))
        return errors

    def errors(self) -> list[tuple[str, str]]:
        return [(i.name, e) for i in self.infos for e in i.errors]


_manager: PluginManager | None = None


def load(config=None) -> PluginManager:
    """Build the plugin manager: built-ins, entry points, then config's plugin_dirs."""
    global _manager
    from core import config as config_mod

    config = config or config_mod.get()
    m = PluginManager()
    m.load_builtins()
    m.load_entry_points()
    for folder in config.plugin_dirs:
        m.load_dir(folder)
    m.collect_registrations()
    m.collect_kinds()
    _manager = m
    return m


_load_lock = __import__("threading").Lock()


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


def check_config(cfg=None, manager=None) -> None:
    """Validate the config's rule and scorer sections against what the plugins registered
    (ConfigError names the file and key); defaults: the loaded config and plugin manager."""
    from core import config

    cfg = cfg or config.get()
    manager = manager or get()
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


def registered_models() -> list:
    return get().collect_models()
