"""Maintenance scripts for the NLU project."""
