"""Personal data: the notice and consent, retention, residents' requests to see and erase."""
