"""Prometheus metrics, one registry per process (served at GET /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Every metric Puente exports; pass one instance to the components that count."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages_in = Counter(
            "puente_messages_in", "WhatsApp messages received from customers", ["tenant"], registry=self.registry
        )
        self.messages_out = Counter(
            "puente_messages_out", "Replies sent to customers", ["tenant"], registry=self.registry
        )
        self.openai_latency = Histogram(
            "puente_openai_latency_seconds", "Time OpenAI took to answer a turn",
            buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64), registry=self.registry,
        )
        self.errors = Counter("puente_errors", "Errors by kind", ["kind"], registry=self.registry)
        self.bridges = Gauge(
            "puente_bridges", "Bridges by WhatsApp state", ["state"], registry=self.registry
        )
        self.bridge_restarts = Counter(
            "puente_bridge_restarts", "Bridge processes restarted after exiting", ["tenant"], registry=self.registry
        )
