"""Fuzzing the real bot with random and hostile Slack payloads."""
