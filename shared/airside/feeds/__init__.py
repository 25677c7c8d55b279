"""Live feeds: Server-Sent Events fed from each service's own stream (docs/feeds.md)."""
