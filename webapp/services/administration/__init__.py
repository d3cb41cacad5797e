"""Administration of agencies, users, categories and rules; the demo seed."""
