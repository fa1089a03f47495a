"""Built-in plugin rules_workers (being written)."""
