"""Built-in plugins: the city's default rules, scorers and reports, and the
worked town examples.  They register through the same hooks a town plugin
uses (DESIGN.md: the core has no private path that a town cannot take).
"""
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
