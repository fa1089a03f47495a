"""dangjian core: the electronic ledger of community Party building (社区党建工作电子台账).

Public API for plugins (town IT writes ``from core import hookimpl, Rule``):

- :func:`hookimpl` — marks a hook implementation (see ``core.hookspecs``)
- :class:`Rule`, :class:`Finding`, :class:`Scorer`, :class:`Report`
- ``enums`` — the value sets; ``ids`` — ID-number helpers

``core`` never imports textual: the headless CLI must start fast.
"""
from core.api import Finding, Report, Rule, Scorer
from core.hookspecs import hookimpl
from core import enums, ids

__version__ = "0.1.0"

__all__ = ["hookimpl", "Rule", "Finding", "Scorer", "Report", "enums", "ids", "__version__"]
