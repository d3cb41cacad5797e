"""Custom Rasa graph components (imported by the Rasa server, Python 3.10)."""
