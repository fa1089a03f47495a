"""``python -m core.cli``: the ``dangjian`` command, as the console script runs it."""
from core.cli import run

run()
