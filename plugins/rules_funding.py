"""Built-in plugin rules_funding (being written)."""
