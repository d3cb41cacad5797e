"""Deadlines: the working-day calendar, setting a report's deadline, the sweep that reminds and
escalates.
"""
