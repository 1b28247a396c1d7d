"""What the bot tells its operators: log lines, Prometheus metrics, the health of the sweeps.

Neutral ground: the lifecycle (``bot/incidents/``) and Slack plumbing (``bot/slack/``) record
into these; ``bot/runtime/`` wires them to the process and serves them over HTTP.
"""
