"""Built-in plugin rules_org (being written)."""
