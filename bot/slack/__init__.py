"""Talking to Slack: calls, the outbox of parked calls, workspaces, redeliveries, the header."""
