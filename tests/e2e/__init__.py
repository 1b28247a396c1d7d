"""End-to-end tests: the real app over real signed HTTP against the Slack double."""
