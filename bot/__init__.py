"""Messenger bots: one channel-neutral dialog (`bot.dialog`) and thin Telegram and Zalo
adapters that translate each messenger's updates to and from it."""
