"""The operators' Telegram admin bot (python-telegram-bot, driven by hand by AdminBot)."""
