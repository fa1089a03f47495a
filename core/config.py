"""Configuration (配置): ``config/default.toml`` with a city's or town's file layered over it.

Order: the shipped defaults, then ``--config FILE`` / ``DANGJIAN_CONFIG``.
``[towns."<town>".params."<rule id>"]`` overrides a parameter for one town.
A bad key or value raises :class:`ConfigError` naming the file, the key and
what is allowed.
"""
from __future__ import annotations

import copy
import datetime as dt
import math
import os
import re
import sys
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(Exception):
    pass


_MONTH_DAY = re.compile(r"(\d\d)-(\d\d)")


TOP_KEYS = {"plugin_dirs", "plugins", "lang", "check", "points", "dues", "keymap", "params", "towns", "scoring",
            "ui", "import", "reports"}
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
    """Read one TOML file; every problem (missing, unreadable, a folder, a pipe or device, binary, bad TOML)
    is a ConfigError.  Opened without blocking, so a FIFO never makes us wait."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError
            if not stat.S_ISREG(mode):
                raise ConfigError(f"{path}: not a regular file (a pipe or a device), not a config file")
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


#: the largest magnitude of any number in a config (beyond it a value is a typo, and date arithmetic overflows)
MAX_NUMBER = 1e9


def _bounds(key: str, default, scores: bool = False) -> tuple[float, float, bool, str] | None:
    """(low, high, whole numbers only, what) for a number named ``key``, or None for the general rule.

    Found by the key's name, as default.toml names its parameters (a plugin's
    parameters follow the same words): ``…days`` are day counts, ``…months``
    month counts, ``…age…`` ages, ``…year`` years, ``…_per_point`` divisors, a
    scorer's ``…_min`` / ``…_below`` thresholds scores 0–100.
    """
    words = key.split("_")
    if key == "keep_runs":
        return 0, 100_000, True, "a number of runs (0 keeps every run)"
    if key == "max_bytes":
        return 1, float(1 << 40), True, "a number of bytes"
    if "year" in words:
        return 1921, 2200, True, "a year"
    if "days" in words:
        return 0, 36_600, False, "a number of days"
    if "months" in words:
        return 0, 1_200, False, "a number of months"
    if "age" in words:
        return 0, 150, False, "an age in years"
    if key.endswith("_per_point"):
        return 0, 1e6, False, "a divisor"
    if scores and (key.endswith("_min") or key.endswith("_below")):
        return 0, 100, False, "a score"
    if isinstance(default, float) and 0 < default < 1:
        return 0, 1, False, "a fraction (0.9 = 90 %)"
    return None


def _check_number(where: str, key: str, default, value, scores: bool = False, shown=None) -> None:
    """A finite number inside the bounds of its kind (:func:`_bounds`); not negative when its default is not.
    ``shown`` is the value the message quotes (a whole range, say)."""
    shown = value if shown is None else shown
    if not math.isfinite(value):
        raise ConfigError(f"{where}: {key} = {shown!r}: a finite number is expected")
    bounds = _bounds(key, default, scores)
    if bounds is not None:
        low, high, whole, what = bounds
        positive = key.endswith("_per_point")
        if (whole and value != int(value)) or not low <= value <= high or (positive and value <= 0):
            span = f"above {low:g}" if positive else f"from {low:g} to {high:g}"
            raise ConfigError(f"{where}: {key} = {shown!r}: {what} {span} is expected")
        return
    if abs(value) > MAX_NUMBER:
        raise ConfigError(f"{where}: {key} = {shown!r}: too large (at most {MAX_NUMBER:g})")
    if value < 0 <= default:
        raise ConfigError(f"{where}: {key} = {shown!r}: must not be negative (default {default!r})")


def _check_decimal_text(where: str, key: str, value) -> None:
    """Money written as text (``"0.20"``): a plain amount, not negative, at most MAX_NUMBER."""
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite() or not 0 <= d <= Decimal(int(MAX_NUMBER)):
        raise ConfigError(f"{where}: {key} = {value!r}: an amount like \"0.20\" (yuan, not negative) is expected")


def _is_decimal_text(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def check_value(where: str, key: str, default, value, scores: bool = False) -> None:
    """Raise ConfigError when ``value`` is not of the kind of ``default`` or not a sensible one of its kind.

    Non-finite numbers (nan, inf, 1e400) are always refused; numbers are bounded
    by their kind (:func:`_bounds`), money and counts are never negative;
    ``scores`` is a scorer's section (its ``…_min`` / ``…_below`` are scores 0–100).
    """
    dk, vk = _kind(default), _kind(value)
    if dk != vk:
        raise ConfigError(f"{where}: {key} = {value!r}: a {dk} is expected (default {default!r})")
    if dk == "number":
        _check_number(where, key, default, value, scores)
    if dk == "array" and len(default) == 2 and all(_kind(x) == "number" for x in default):
        if len(value) != 2 or not all(_kind(x) == "number" for x in value) or value[0] > value[1]:
            raise ConfigError(f"{where}: {key} = {value!r}: a range [low, high] of two numbers is expected")
        for x, d in zip(value, default):
            _check_number(where, key, d, x, scores, shown=value)
    if dk == "array" and default and all(_kind(b) == "array" and len(b) == 2 for b in default):
        _check_bands(where, key, value)
    if dk == "string" and "/" in str(default):
        try:
            frac = Fraction(value)
        except (ValueError, ZeroDivisionError):
            raise ConfigError(f"{where}: {key} = {value!r}: an exact fraction like \"1/3\" is expected") from None
        if not 0 <= frac <= 1:
            raise ConfigError(f"{where}: {key} = {value!r}: a fraction between 0 and 1 is expected, like \"1/3\"")
    elif dk == "string" and _MONTH_DAY.fullmatch(default):
        m = _MONTH_DAY.fullmatch(value)
        try:
            dt.date(2000, int(m.group(1)), int(m.group(2)))  # a leap year: 02-29 is a month-day
        except (AttributeError, ValueError):
            raise ConfigError(f"{where}: {key} = {value!r}: a month-day \"MM-DD\" is expected, like "
                              f"{default!r}") from None
    elif dk == "string" and _is_decimal_text(default):
        _check_decimal_text(where, key, value)


def _check_bands(where: str, key: str, value) -> None:
    """Rate bands like ``[[3000, 0.005], [-1, 0.02]]``: [upper bound in yuan (-1: none), rate 0–1] each."""
    ok = isinstance(value, list) and value
    for band in value if ok else []:
        if not (isinstance(band, list) and len(band) == 2 and all(_kind(x) == "number" for x in band)):
            ok = False
            break
        upper, rate = band
        if not (math.isfinite(upper) and math.isfinite(rate) and (upper == -1 or 0 <= upper <= MAX_NUMBER)
                and 0 <= rate <= 1):
            ok = False
            break
    if not ok:
        raise ConfigError(f"{where}: {key} = {value!r}: bands [[upper bound in yuan (-1 for none), rate from 0 "
                          "to 1], …] are expected")


def _check_table(where: str, key: str, default: dict, value: dict) -> None:
    """A scorer's table parameter: ``public_evaluation`` (year → community → score 0–100),
    ``status_values`` (0–1), ``weights`` (not negative), names (text)."""
    if key == "public_evaluation":
        for year, scores in value.items():
            if not (str(year).isdigit() and 1921 <= int(year) <= 2200):
                raise ConfigError(f"{where} {key}.{year}: a year like \"2026\" is expected")
            if not isinstance(scores, dict):
                raise ConfigError(f"{where} {key}.\"{year}\": a table of community code = score is expected")
            for code, score in scores.items():
                if _kind(score) != "number" or not math.isfinite(score) or not 0 <= score <= 100:
                    raise ConfigError(f"{where} {key}.\"{year}\".\"{code}\" = {score!r}: a score from 0 to 100 "
                                      "is expected")
        return
    numbers = [v for v in default.values() if _kind(v) == "number"]
    for k, v in value.items():
        if numbers or _kind(v) == "number":
            if _kind(v) != "number":
                raise ConfigError(f"{where} {key}.{k} = {v!r}: a number is expected")
            if not math.isfinite(v) or v < 0 or v > (1 if key == "status_values" else MAX_NUMBER):
                high = "1" if key == "status_values" else f"{MAX_NUMBER:g}"
                raise ConfigError(f"{where} {key}.{k} = {v!r}: a number from 0 to {high} is expected")
        elif default and all(isinstance(x, str) for x in default.values()) and not isinstance(v, str):
            raise ConfigError(f"{where} {key}.\"{k}\" = {v!r}: a name (string) is expected")


def _non_finite(path: str, raw, key: str = "") -> None:
    """Refuse nan and inf (and 1e400, which TOML reads as inf) anywhere in a file."""
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ConfigError(f"{path}: {key} = {raw!r}: a finite number is expected")
    if isinstance(raw, dict):
        for k, v in raw.items():
            _non_finite(path, v, f"{key}.{k}" if key else str(k))
    elif isinstance(raw, list):
        for i, v in enumerate(raw):
            _non_finite(path, v, f"{key}[{i}]")


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
                        check_value(f"{path}: [{where}]", k, allowed[k], v, scores=True)
                    elif not isinstance(v, dict):
                        raise ConfigError(f"{path}: [{where}] {k}: a table is expected")
                    else:
                        _check_table(f"{path}: [{where}]", k, allowed[k], v)


def _validate_top(path: str, raw: dict, defaults: dict, system: bool = False) -> None:
    _non_finite(path, raw)
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
