"""Settings per environment and the data a province edits (categories, agencies, rules)."""
