"""Telling people: the outbox, what each event sends, the bot conversations, and the channels
(e-mail, Telegram, Zalo).
"""
