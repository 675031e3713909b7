"""The relay side of the bridge protocol (docs/PROTOCOL.md): WebSocket endpoint,
live connections, WhatsApp states, the bridge processes and the login flows."""
