"""Built-in plugin scorers_default (being written)."""
