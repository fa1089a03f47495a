"""Built-in plugin rules_democracy (being written)."""
