"""Built-in plugin rules_members (being written)."""
