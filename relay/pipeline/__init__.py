"""What a tenant's customers experience: from a received WhatsApp message to the reply."""

from relay.pipeline.pipeline import Pipeline

__all__ = ["Pipeline"]
