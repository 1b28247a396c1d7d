"""The embedded default: a Slack API double, a driver that signs like Slack, a rehearsal."""
