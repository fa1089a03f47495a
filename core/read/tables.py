"""Scorer and report tables (评分与报表): a scorer or a report run over the view, in the
shape of the app's generic table screen."""
from __future__ import annotations

from core.view import View


def scorer_table(view: View, name: str, year: int) -> dict:
    """Run scorer ``name`` over the view: {"title", "headers", "rows", "records", "errors", "kind"}."""
    from core import plugins, scoring
    from core.i18n import get_lang

    run = scoring.run_scorer_full(name, year=year, town=view.town, community=view.community,
                                  principal=view.principal)
    headers, rows, records = scoring.table(run, with_items=True)
    reg = plugins.get().registry
    s = reg.scorer_for(name, view.town) or reg.scorers.get(name)
    title = s.title(get_lang()) if s else name
    kind = run.scorers[0].subjects if run.scorers else "member"
    # unmasked subjects let the screen open the member's page
    raw = [r.subject for r in run.results]
    return {"title": title, "headers": headers, "rows": rows, "records": records, "errors": list(run.errors),
            "kind": kind, "subjects": raw, "year": run.year, "as_of": run.as_of}


def report_table(view: View, name: str, year: int) -> dict:
    """Run report ``name`` over the view: same shape as :func:`scorer_table` (``html`` for HTML-only)."""
    from core import reports

    result = reports.run_report(name, year=year, town=view.town, community=view.community,
                                principal=view.principal)
    if isinstance(result, str):
        return {"title": name, "html": result, "headers": [], "rows": [], "records": None, "errors": [],
                "kind": None, "subjects": None}
    return {"title": result.title or name, "headers": list(result.headers), "rows": [list(r) for r in result.rows],
            "records": result.records, "errors": [], "kind": None, "subjects": None,
            "status_col": result.status_col, "notes": list(result.notes or [])}
