"""Built-in plugin reports_default (being written)."""
