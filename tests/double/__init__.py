"""The Slack double's own tests: it behaves as Slack documents, and the driver signs like Slack."""
