"""Built-in plugins: the city's default rules, scorers and reports, and the
worked town examples.  They register through the same hooks a town plugin
uses: the core has no private path that a town cannot take.

Which of them load is the tuple ``core.plugins.DEFAULT_PLUGINS`` (module names,
imported by name), re-exported here.
"""
from core.plugins import DEFAULT_PLUGINS

__all__ = ["DEFAULT_PLUGINS"]
