"""Configuration (配置): ``config/default.toml`` with a city's or town's file layered over it.

Order: the shipped defaults, then ``--config FILE`` / ``DANGJIAN_CONFIG``.
``[towns."<town>".params."<rule id>"]`` overrides a parameter for one town.
A bad key or value raises :class:`ConfigError` naming the file, the key and
what is allowed.
"""
from __future__ import annotations

import copy
import os
import sys
from fractions import Fraction
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(Exception):
    pass


TOP_KEYS = {"plugin_dirs", "lang", "check", "points", "dues", "keymap", "params", "towns", "scoring", "ui",
            "import", "reports"}
#: keys only the system config (/etc/dangjian/config.toml) may hold; in a user's config they are an error
SYSTEM_KEYS = {"service_account", "db", "backup_dir"}


def default_path() -> Path:
    """``config/default.toml``: inside the installed package, or the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_config" / "default.toml", here.parent / "config" / "default.toml"):
        if candidate.is_file():
            return candidate
    raise ConfigError("config/default.toml is missing: the installation is broken (reinstall dangjian)")


def load_file(path: Path) -> dict:
    """Read one TOML file; every problem (missing, unreadable, a folder, binary, bad TOML) is a ConfigError."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(4 * 1024 * 1024 + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    if len(data) > 4 * 1024 * 1024:
        raise ConfigError(f"{path}: too large for a config file (over 4 MB)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


_load = load_file


def deep_merge(base: dict, over: dict | None) -> dict:
    """A copy of ``base`` with ``over`` laid on it, tables merged key by key."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _kind(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__


def check_value(where: str, key: str, default, value) -> None:
    """Raise ConfigError when ``value`` is not of the kind of ``default``."""
    dk, vk = _kind(default), _kind(value)
    if dk != vk:
        raise ConfigError(f"{where}: {key} = {value!r}: a {dk} is expected (default {default!r})")
    if dk == "array" and len(default) == 2 and all(_kind(x) == "number" for x in default):
        if len(value) != 2 or not all(_kind(x) == "number" for x in value) or value[0] > value[1]:
            raise ConfigError(f"{where}: {key} = {value!r}: a range [low, high] of two numbers is expected")
    if dk == "string" and "/" in str(default):
        try:
            Fraction(value)
        except (ValueError, ZeroDivisionError):
            raise ConfigError(f"{where}: {key} = {value!r}: an exact fraction like \"1/3\" is expected") from None
    if dk == "number" and isinstance(default, float) and 0 < default < 1 and not 0 <= value <= 1:
        raise ConfigError(f"{where}: {key} = {value!r}: a fraction between 0 and 1 is expected (0.9 = 90 %)")


class Config:
    """The layered configuration.  ``sources`` lists the files read, in order."""

    def __init__(self, data: dict, defaults: dict, sources: list[tuple[str, dict]], system: bool = False):
        self.system = system  # the system config is the city config (running as the service account)
        self.data = data
        self.defaults = defaults
        self.sources = sources  # [(path, raw dict)]

    # -- plain keys
    def get(self, key, default=None):
        return self.data.get(key, default)

    @property
    def lang(self) -> str:
        return self.data.get("lang", "zh")

    @property
    def plugin_dirs(self) -> list[Path]:
        out = []
        for path, raw in self.sources:
            base = Path(path).parent
            for d in raw.get("plugin_dirs", []):
                p = Path(d).expanduser()
                out.append(p if p.is_absolute() else (base / p))
        env = None if self.system else os.environ.get("DANGJIAN_PLUGIN_DIRS")
        if env:
            out.extend(Path(p) for p in env.split(os.pathsep) if p)
        return out

    def section(self, name: str) -> dict:
        return self.data.get(name, {}) or {}

    # -- rule parameters
    def rule_params(self, rule_id: str, defaults: dict | None = None, town: str | None = None,
                    town_defaults: dict | None = None) -> tuple[dict, dict]:
        """Parameters in force for ``rule_id`` (in ``town``), and where each came from.

        Layers: the rule's own defaults (``default``), the shipped default.toml
        (``default``), a plugin's ``dangjian_town_params`` (``town plugin``), the
        city config file (``city config``), the town section (``town config``).
        """
        values: dict = {}
        origin: dict = {}
        for k, v in (defaults or {}).items():
            values[k], origin[k] = v, "default"
        for k, v in self.defaults.get("params", {}).get(rule_id, {}).items():
            values[k], origin[k] = v, "default"
        for k, v in (town_defaults or {}).items():
            values[k], origin[k] = v, "town plugin"
        for path, raw in self.sources[1:]:
            for k, v in raw.get("params", {}).get(rule_id, {}).items():
                values[k], origin[k] = v, f"city config ({path})"
        if town:
            for path, raw in self.sources[1:]:
                tp = raw.get("towns", {}).get(town, {}).get("params", {}).get(rule_id, {})
                for k, v in tp.items():
                    values[k], origin[k] = v, f"town config ({path})"
        return values, origin

    def validate_rule_params(self, rules: dict[str, dict]) -> None:
        """Check every ``params`` section of the user's files against the known rules.

        ``rules`` maps rule id → its default parameters (built-ins and plugins).
        """
        for path, raw in self.sources[1:]:
            sections = [(f"params.\"{rid}\"", rid, p) for rid, p in raw.get("params", {}).items()]
            for town, tsec in raw.get("towns", {}).items():
                for rid, p in tsec.get("params", {}).items():
                    sections.append((f"towns.\"{town}\".params.\"{rid}\"", rid, p))
            for where, rid, params in sections:
                if rid not in rules:
                    known = ", ".join(sorted(rules))
                    raise ConfigError(f"{path}: [{where}]: unknown rule id {rid!r}; known: {known}")
                allowed = dict(self.defaults.get("params", {}).get(rid, {}))
                allowed.update(rules[rid] or {})
                for k, v in params.items():
                    if k not in allowed:
                        names = ", ".join(sorted(allowed)) or "(none)"
                        raise ConfigError(f"{path}: [{where}] {k}: unknown parameter; allowed: {names}")
                    check_value(f"{path}: [{where}]", k, allowed[k], v)


    def validate_scoring(self, scorers: dict[str, dict]) -> None:
        """Check every ``[scoring."<name>"]`` section of the user's files (city-wide and
        per town) against the known scorers (built-ins and plugins): ``scorers`` maps
        a scorer's name to its own default parameters.
        """
        for path, raw in self.sources[1:]:
            sections = [(f"scoring.\"{n}\"", n, sec) for n, sec in raw.get("scoring", {}).items()]
            for town, tsec in raw.get("towns", {}).items():
                for n, sec in tsec.get("scoring", {}).items():
                    sections.append((f"towns.\"{town}\".scoring.\"{n}\"", n, sec))
            for where, name, sec in sections:
                if name not in scorers:
                    raise ConfigError(f"{path}: [{where}]: unknown scorer {name!r}; known: "
                                      + ", ".join(sorted(scorers)))
                if not isinstance(sec, dict):
                    raise ConfigError(f"{path}: [{where}]: a table is expected")
                allowed = dict(self.defaults.get("scoring", {}).get(name, {}))
                allowed.update(scorers[name] or {})
                for k, v in sec.items():
                    if k not in allowed:
                        raise ConfigError(f"{path}: [{where}] {k}: unknown parameter; allowed: "
                                          + ", ".join(sorted(allowed)))
                    if not isinstance(allowed[k], dict):
                        check_value(f"{path}: [{where}]", k, allowed[k], v)
                    elif not isinstance(v, dict):
                        raise ConfigError(f"{path}: [{where}] {k}: a table is expected")


def _validate_top(path: str, raw: dict, defaults: dict, system: bool = False) -> None:
    for key in raw:
        if key in SYSTEM_KEYS and not system:
            raise ConfigError(f"{path}: {key} may only be set in the system config /etc/dangjian/config.toml "
                              "(owner root, mode 0640), not in a user's config")
        if key not in TOP_KEYS and key not in SYSTEM_KEYS:
            raise ConfigError(f"{path}: unknown key {key!r}; allowed: {', '.join(sorted(TOP_KEYS))}")
    if "lang" in raw and raw["lang"] not in ("zh", "en"):
        raise ConfigError(f"{path}: lang = {raw['lang']!r}: allowed: \"zh\", \"en\"")
    if "plugin_dirs" in raw and not (isinstance(raw["plugin_dirs"], list)
                                     and all(isinstance(p, str) for p in raw["plugin_dirs"])):
        raise ConfigError(f"{path}: plugin_dirs: a list of folder paths is expected")
    for sec in ("check", "points", "dues", "import", "reports"):
        if not isinstance(raw.get(sec, {}), dict):
            raise ConfigError(f"{path}: {sec}: a table is expected")
        for k, v in raw.get(sec, {}).items():
            if k not in defaults.get(sec, {}):
                raise ConfigError(f"{path}: [{sec}] {k}: unknown key; allowed: "
                                  + ", ".join(sorted(defaults.get(sec, {}))))
            check_value(f"{path}: [{sec}]", k, defaults[sec][k], v)
    for k, v in raw.get("keymap", {}).items():
        if not isinstance(v, str):
            raise ConfigError(f"{path}: [keymap] {k}: a key name string is expected, e.g. \"f2\"")
    for town, tsec in raw.get("towns", {}).items():
        if not isinstance(tsec, dict):
            raise ConfigError(f"{path}: towns.{town}: a table is expected")
        for k in tsec:
            if k not in ("params", "points", "scoring"):
                raise ConfigError(f"{path}: [towns.\"{town}\"] {k}: unknown key; allowed: params, points, scoring")


_config: Config | None = None


def load(path: str | os.PathLike | None = None, *, system: tuple[str, dict] | None = None) -> Config:
    """Load and validate the configuration.

    ``system`` is the system config ``(path, table)`` when running as the service
    account: then it is the city config and the only one (``path`` and
    ``DANGJIAN_CONFIG`` are refused before this is called).  Otherwise ``path``
    defaults to DANGJIAN_CONFIG.
    """
    global _config
    dpath = default_path()
    defaults = _load(dpath)
    sources = [(str(dpath), defaults)]
    data = copy.deepcopy(defaults)
    if system is not None:
        spath, raw = system
        _validate_top(str(spath), raw, defaults, system=True)
        sources.append((str(spath), raw))
        data = deep_merge(data, raw)
    else:
        path = path or os.environ.get("DANGJIAN_CONFIG")
        if path:
            raw = _load(Path(path))
            _validate_top(str(path), raw, defaults)
            sources.append((str(path), raw))
            data = deep_merge(data, raw)
    _config = Config(data, defaults, sources, system=system is not None)
    return _config


def get() -> Config:
    return _config or load()


def reset() -> None:
    global _config
    _config = None
