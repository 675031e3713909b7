"""The operators' Telegram admin bot (python-telegram-bot, driven by hand by AdminBot).

Imports the kernel (`core`), `tenants` and the public surface of `relay` (what
`relay/__init__.py` exports); never `web`.
"""
