"""Built-in plugins: the city's default rules, scorers and reports, and the
worked town examples.  They register through the same hooks a town plugin
uses (DESIGN.md: the core has no private path that a town cannot take).
"""
DEFAULT_PLUGINS = (
    "plugins.funding_split_examples",
)
