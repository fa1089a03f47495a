"""dangjian core: the electronic ledger of community Party building (社区党建工作电子台账).

Public API for plugins (town IT writes ``from core import hookimpl, Rule``):

- :func:`hookimpl` — marks a hook implementation (see ``core.hookspecs``)
- :class:`Rule`, :class:`Finding`, :class:`Scorer`, :class:`Report` (``core.api``)
- ``enums`` — the value sets; ``ids`` — ID-number helpers

``core`` never imports textual: the headless CLI must start fast.  The names
above are resolved on first use (PEP 562), so ``import core`` stays cheap on
the terminal app's start-up path.
"""
__version__ = "0.1.0"

__all__ = ["hookimpl", "Rule", "Finding", "Scorer", "Report", "enums", "ids", "__version__"]

_API = ("Rule", "Finding", "Scorer", "Report")


def __getattr__(name):
    if name in _API:
        from core import api

        return getattr(api, name)
    if name == "hookimpl":
        from core.hookspecs import hookimpl

        return hookimpl
    if name in ("enums", "ids"):
        import importlib

        return importlib.import_module(f"core.{name}")
    raise AttributeError(f"module 'core' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
