"""The clients' landing pages and the HTTP server (aiohttp): status shown live, linking.

Imports the kernel (`core`), `tenants` and the public surface of `relay` (what
`relay/__init__.py` exports); never `bot`.
"""
