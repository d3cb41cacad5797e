"""Where a report is: ward boundaries and their index, the gazetteer of place names, the cache
of places.
"""
