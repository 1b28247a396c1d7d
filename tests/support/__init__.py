"""The test harness and the readers tests share: people, Slack payloads, helpers."""
