"""Built-in rules of clause 3 (第3条): the kind of a Party organization fits its size.

``org.kind_size`` — subjects: every 党委, 党总支 and 党支部 of the communities
in scope.  Members counted: formal members (转正日期 on or before the as-of
date) whose relationship is there (社区党员 or 流出党员), in the organization
and every organization below it.  超过 is exclusive: a 党总支 needs 51.
"""
from __future__ import annotations

from core import hookimpl, Rule, tr


def _org_kind_size(ctx):
    from core import enums, Organization, relationship_member_counts

    if not ctx.communities:
        return
    ids = ctx.community_ids
    direct = relationship_member_counts(ids, ctx.as_of, formal_only=True, by="organization")
    orgs = list(Organization.select(Organization.id, Organization.code, Organization.kind, Organization.parent,
                                    Organization.community, Organization.approval_no)
                .where(Organization.community.in_(ids)).tuples())
    children: dict = {}
    for oid, _code, _kind, parent, _c, _a in orgs:
        if parent is not None:
            children.setdefault(parent, []).append(oid)
    memo: dict = {}

    def subtree(oid, seen=()):
        if oid in memo:
            return memo[oid]
        if oid in seen:  # a cycle in bad data: count once
            return 0
        total = direct.get(oid, 0) + sum(subtree(c, seen + (oid,)) for c in children.get(oid, []))
        memo[oid] = total
        return total

    for oid, code, kind, _parent, community_id, approval in orgs:
        if kind not in ("committee", "general_branch", "branch"):
            continue
        p = ctx.params(ctx.community(community_id).town)
        n = subtree(oid)
        kind_label = enums.ORG_KIND.label(kind, ctx.lang)
        ev = {"organization_id": oid, "kind": kind, "formal_members": n, "direct_members": direct.get(oid, 0),
              "as_of": ctx.as_of.isoformat()}
        if kind == "committee":
            need = p["committee_min_exclusive"]
            ev.update(required_more_than=need, approval_no=approval)
            problems = []
            if n <= need:
                problems.append(tr("正式党员{n}人，党委须超过{k}人", "{n} formal members; a Party committee needs "
                                   "more than {k}", n=n, k=need))
            if not (approval or "").strip():
                problems.append(tr("缺少批准文号", "no approval document number"))
            if problems:
                yield ctx.finding(code, "fail", "；".join(problems) if ctx.lang == "zh" else "; ".join(problems),
                                  ev, community=community_id)
            else:
                yield ctx.finding(code, "pass", tr("党委：正式党员{n}人（超过{k}人），批准文号{a}",
                                                   "Party committee: {n} formal members (more than {k}), "
                                                   "approval {a}", n=n, k=need, a=approval), ev,
                                  community=community_id)
        elif kind == "general_branch":
            need = p["general_branch_min_exclusive"]
            ev.update(required_more_than=need)
            if n > need:
                yield ctx.finding(code, "pass", tr("党总支：正式党员{n}人（超过{k}人）",
                                                   "general branch: {n} formal members (more than {k})", n=n, k=need),
                                  ev, community=community_id)
            else:
                yield ctx.finding(code, "fail", tr("党总支正式党员{n}人，须超过{k}人",
                                                   "general branch has {n} formal members; more than {k} needed",
                                                   n=n, k=need), ev, community=community_id)
        else:
            hi, lo = p["branch_max"], p["branch_min"]
            ev.update(branch_max=hi, branch_min=lo)
            if n > hi:
                yield ctx.finding(code, "warn", tr("党支部正式党员{n}人，超过{k}人，可成立党总支",
                                                   "branch has {n} formal members, more than {k}: it may become "
                                                   "a general branch", n=n, k=hi), ev, community=community_id)
            elif n < lo:
                yield ctx.finding(code, "warn", tr("党支部正式党员{n}人，少于{k}人（支部工作条例）",
                                                   "branch has {n} formal members, fewer than {k} "
                                                   "(branch work regulations)", n=n, k=lo), ev,
                                  community=community_id)
            else:
                yield ctx.finding(code, "pass", tr("{kind}：正式党员{n}人", "{kind}: {n} formal members",
                                                   kind=kind_label, n=n), ev, community=community_id)


RULES = [
    Rule(id="org.kind_size", clause=3, title_zh="党组织类别与党员人数相符", title_en="organization kind fits its size",
         evaluate=_org_kind_size, subjects="organization",
         params={"committee_min_exclusive": 100, "general_branch_min_exclusive": 50, "branch_max": 50,
                 "branch_min": 3},
         description_zh="党委：本级及下属组织中组织关系在此的正式党员超过 committee_min_exclusive 人且有批准文号；"
                        "党总支：超过 general_branch_min_exclusive 人；党支部：超过 branch_max 人或少于 branch_min 人为提醒。",
         description_en="a Party committee: more than committee_min_exclusive formal members whose relationship is "
                        "in it or below it, and an approval document number; a general branch: more than "
                        "general_branch_min_exclusive; a branch with more than branch_max or fewer than branch_min "
                        "is a warning."),
]


@hookimpl
def dangjian_register_rules(register):
    for rule in RULES:
        register(rule)
