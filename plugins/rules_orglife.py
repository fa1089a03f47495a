"""Built-in plugin rules_orglife (being written)."""
