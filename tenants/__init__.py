"""Tenants: the model, its repository, its rules (validation, secrets, invites, audit), and
each tenant's knowledge files (`tenants/knowledge/`: its vector store at OpenAI).

The ground floor of the business: imports only the kernel (`core`), no framework
(neither `telegram` nor `aiohttp`).
"""
