"""The composition root: `Puente` (the running service), `puente run`, `puente check`.

The only package that imports every other one (core, tenants, relay, bot, web) and wires
them together; nothing imports it.
"""
