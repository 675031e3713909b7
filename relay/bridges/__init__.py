"""The relay side of the bridge protocol (shared/PROTOCOL.md): WebSocket endpoint,
live connections, WhatsApp states, the bridge processes and the login flows."""
