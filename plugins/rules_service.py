"""Built-in plugin rules_service (being written)."""
