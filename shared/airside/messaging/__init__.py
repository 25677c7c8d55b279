"""Delivery on NATS JetStream: envelope, streams, the outbox relay and the inbox consumer."""
