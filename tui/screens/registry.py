"""The app's screens: name → (Chinese title, English title, "module:Class").

The app's menu and command palette list these, then the screens plugins
register, then one generic screen per registered scorer and report.
Modules are imported only when a screen first opens (fast start-up).
"""
SCREENS = {
    "dashboard": ("工作台", "Dashboard", "tui.screens.dashboard:DashboardScreen"),
    "orgs": ("组织架构", "Organizations", "tui.screens.orgs:OrgTreeScreen"),
    "members": ("党员", "Members", "tui.screens.members:MembersScreen"),
    "workers": ("社区工作者", "Workers", "tui.screens.workers:WorkersScreen"),
    "meetings": ("会议与出勤", "Meetings", "tui.screens.meetings:MeetingsScreen"),
    "dues": ("党费", "Dues", "tui.screens.dues:DuesScreen"),
    "visits": ("接访走访", "Visits", "tui.screens.visits:VisitsScreen"),
    "funding": ("经费", "Funding", "tui.screens.funding:FundingScreen"),
    "compliance": ("合规检查", "Compliance", "tui.screens.compliance:ComplianceScreen"),
    "records": ("其他台账", "Other records", "tui.screens.records:RecordsScreen"),
    "plugins": ("插件状态", "Plugins", "tui.screens.plugins:PluginsScreen"),
}
