"""Unit tests per area: rules, messages, tone, figures, playbooks."""
