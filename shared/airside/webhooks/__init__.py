"""Signed webhooks: partners' subscriptions to a service's own events, delivered per Standard Webhooks (docs/webhooks.md)."""
