"""The Slack double: a loopback Slack (Web API, events, Socket Mode) that behaves as documented."""
