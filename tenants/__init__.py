"""Tenants: the model, its repository, its rules (validation, secrets, invites, audit).

The ground floor of the business: imports only the kernel (`core`), no framework
(neither `telegram` nor `aiohttp`).
"""
