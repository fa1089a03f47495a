"""The read side (读取查询): every query the terminal app's screens need, one module per domain.

================  ==================================================================
``members``       the roster's search and keyset pages (:class:`members.MemberFilter`),
                  the command palette, one member's page and points, counts by class
``organizations`` the organization tree, search, choices and members; the communities
                  of a view and the narrowings a user may choose
``workers``       community workers: the list, one worker's posts and trainings
``meetings``      the meeting list, one meeting and its attendance roster, 三会一课 due
``dues``          a branch's dues month grid and the state of one cell
``visits``        the visit list, demand deadlines and the overdue demands (one count
                  for the dashboard and the visits screen)
``funding``       activity funding per community, allocations, the gaps
``compliance``    the matrix of a stored check run, a cell's findings and the records
                  behind them, the latest run's summary
``records``       any record kind's list, one record, a record's one-line description
``tables``        a scorer or a report as the generic table screen shows it
``dashboard``     the dashboard's figures from the modules above
================  ==================================================================

Shared: ``paging`` (``RowSource``, the keyset-paged source of a list, ``PAGE``),
``labels`` (``lab``; numbers are shown by :mod:`core.numbers`) and the private ``_sql`` (raw-SQL helpers).

One style: every query of records takes the user's view (:class:`core.view.View`) as its
first argument (the members list: inside its :class:`~members.MemberFilter`) and reads
through it — no query falls back to the current user — and returns plain values as the
view shows them: ID numbers and phones masked unless the user may see them, an age instead
of a birth date.  Lookups of reference data (a community's name, a rule's parameter, the
clause texts) take no view.  Lists that may be long are paged by key (``after`` = the
last key seen), never OFFSET from the start; queries are set-based (a handful per screen,
never one per row); roster conditions come from :mod:`core.roster`.  Writes go through
:mod:`core.records`.

A new query goes into the module of its domain (a new domain: a new module here); the
screen imports that module (``from core.read import visits``) and passes ``self.app.view``.
"""
