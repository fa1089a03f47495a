"""Built-in plugin rules_dues (being written)."""
