"""The hook contract: every hookspec, prefixed ``dangjian_``.

pluggy passes arguments by name, so these signatures are the public API for
town plugins; change one only with a deprecation path.  A plugin implements
a hook with ``from core import hookimpl``.
"""
from __future__ import annotations

import pluggy

PROJECT = "dangjian"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def dangjian_register_rules(register):
    """Called once at load.  Call ``register(rule)`` for each :class:`core.Rule`.

    A rule whose id already exists replaces it — for the towns in its
    ``towns`` list only, or everywhere when ``towns`` is None.  A plugin bound to
    some towns in config must give every rule ``towns`` within them; one that
    reaches beyond is refused at load.
    """


@hookspec
def dangjian_register_scorers(register):
    """Called once at load.  Call ``register(scorer)`` for each :class:`core.Scorer`.

    Same replacement rule as rules: a scorer with an existing name replaces it
    for its ``towns`` (or everywhere).
    """


@hookspec
def dangjian_register_reports(register):
    """Called once at load.  Call ``register(report)`` for each :class:`core.Report`.

    A plugin bound to some towns in config may add reports (they run over its
    towns only) but not replace an existing one: that is refused at load.
    """


@hookspec
def dangjian_register_screens(register):
    """Called only when the terminal UI starts.

    Call ``register(name, title, factory)``; ``factory()`` imports textual
    inside itself and returns a ``Screen``.  A plugin module never imports
    textual at top level (the headless CLI must not load it).
    """


@hookspec
def dangjian_register_models(register):
    """Called at ``init`` (schema creation/upgrade).  Call ``register(model_class)``
    for each extra peewee table a plugin keeps; its ``Meta.database`` must be
    ``core.db.database``.
    """


@hookspec
def dangjian_register_kinds(register):
    """Called at every start-up, after ``dangjian_register_models``.

    Call ``register(kind)`` with a ``core.kinds.Kind`` to declare a record kind
    for a plugin's model: its fields (types, import headers, value sets,
    references), natural key, personal-data fields, path to its community and
    writer roles.  The kind then gets a form, ``dangjian import``, ``export``
    and ``template``, and a place in the records screen.  A declaration that
    cannot work (an unknown field, a built-in kind's name) is refused and
    reported against the plugin.  Returns nothing.
    """


@hookspec(firstresult=True)
def dangjian_funding_split(town, community, year, amount):
    """Split clause 19's funding floor of one community between city and town.

    Called per community; ``town`` is the town's name, ``community`` its code,
    ``year`` the year, ``amount`` the floor as a ``Decimal``.  Return
    ``{"city": Decimal, "town": Decimal}`` summing to ``amount``, or None to
    leave it to the next plugin.  firstresult: stops at the first non-None
    result; with none, the town pays 100 %.  A plugin bound to some towns in
    config is asked only about their communities.  One that raises (or answers
    with shares that do not sum to ``amount``) decides that town's figures: they
    are withheld, never split by the next plugin or the default instead.
    """


@hookspec
def dangjian_town_params(town):
    """Called when a check or score resolves parameters for ``town`` (its name).

    Return ``{rule_id: {param: value}}`` — defaults for that town — or None.
    The city's and the town's config files still override them.  A plugin bound
    to some towns in config is asked only about them; one that raises taints the
    results computed with that town's parameters.
    """


@hookspec
def dangjian_validate_record(kind, record, town, community):
    """Called per imported or edited record.

    ``kind`` is the import kind, as ``dangjian import --help`` lists them (``members``, ``meetings`` …);
    ``record`` a dict keyed by the model's English field names, values already
    parsed, references as their natural keys; ``town`` the record's town name and
    ``community`` its community code (None when the record belongs to none).  An
    implementation may take fewer arguments (pluggy passes them by name).

    Return a list of messages (empty when fine).  Each is a string (about the
    record as a whole) or a ``(column, message)`` pair, ``column`` a field name or
    a column header, so the message appears under that column
    (``FILE row N, COLUMN: message``).  A plugin bound to some towns in config is
    asked only about their records.  One that raises does not let the record
    through: the record is refused with a message naming the plugin.
    """
