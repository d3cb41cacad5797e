"""Resident intake: a report from any channel to a stored, tracked record (reports, photos,
followers, public/private views, contact claims, blocks, scrubbing).
"""
