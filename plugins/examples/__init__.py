"""Worked examples of town plugins (not loaded by default).

Load them by naming this folder in ``plugin_dirs`` (or ``DANGJIAN_PLUGIN_DIRS``)::

    python -c "import plugins.examples as e, os; print(os.path.dirname(e.__file__))"

or by an entry point in the ``dangjian`` group (``plugins.examples.town_example_bacheng``).
"""
