"""The kernel: what every other package stands on.

Owns the settings, the clock, the in-process event bus and its event types, logging with
secret scrubbing, metrics, background tasks, the once-a-day job, packing long texts into
chat messages, and the store connection with its numbered migrations. Imports nothing of
Puente's; everything else may import it.
"""
