"""What happens to a report: the state machine, staff actions, classification, routing to
agencies, residents' feedback and NLU corrections.
"""
