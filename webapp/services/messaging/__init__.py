"""Telling people: the outbox, what each event sends, the bot conversations, and the channels
(`channels/`: e-mail, tracking page, Telegram, Zalo).
"""
