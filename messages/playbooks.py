"""Playbooks in Slack: the declare form's select and the checklist of an applied playbook.

The checklist is one message in the incident channel: a heading and one section per step,
each with a *Done ✓* button until someone ticks it, then who ticked it and when. Steps
beyond what fits Slack's 50 blocks are listed as text (they cannot be ticked, which a
playbook of 48 steps would deserve anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from messages.blocks import (
    SECTION_MAX,
    Block,
    button,
    context,
    escape,
    escape_within,
    mention,
    option,
    section,
    slack_date,
    static_select,
)
from messages.ids import DeclareFields, incident_block, playbook_step
from messages.model import IncidentCard

STEPS_SHOWN = 47
"""Steps with a button: with the heading and the note, within Slack's 50 blocks."""


@dataclass(frozen=True)
class StepRow:
    """One step of the applied playbook, as the checklist shows it."""

    position: int
    text: str
    done_by: str | None = None
    done_at: datetime | None = None


def playbook_select(names: Sequence[str], suggested: str | None) -> Block:
    """The declare form's playbook menu: "No playbook", then every playbook; ``suggested``
    (the one the title's words match) is picked already."""
    options = [option("No playbook", DeclareFields.NO_PLAYBOOK)]
    options += [option(name, name) for name in names[:99]]
    initial = next((o for o in options[1:] if o["value"] == suggested), None)
    return static_select(DeclareFields.PLAYBOOK_ACTION, "Pick a playbook", options, initial)


def steps_text(card: IncidentCard, playbook: str) -> str:
    return f"{card.label}: the steps of the playbook “{playbook}”"


def steps_blocks(card: IncidentCard, playbook: str, steps: Sequence[StepRow]) -> list[Block]:
    done = sum(1 for s in steps if s.done_by)
    heading = f"*Playbook: {escape(playbook)}* — {card.label}\n{done} of {len(steps)} steps done"
    blocks: list[Block] = [section(heading)]
    blocks += [_step(card, step) for step in steps[:STEPS_SHOWN]]
    rest = steps[STEPS_SHOWN:]
    if rest:
        blocks.append(context("Also: " + "; ".join(escape(s.text) for s in rest)))
    if not steps:
        blocks.append(context("This playbook lists no steps."))
    return blocks


def _step(card: IncidentCard, step: StepRow) -> Block:
    block_id = incident_block(card.number, "playbook", step.position)
    text = escape_within(step.text, SECTION_MAX - 200)
    if step.done_by and step.done_at:
        who = f"{mention(step.done_by)} · {slack_date(step.done_at)}"
        return section(f"✅ ~{text}~\n{who}", block_id=block_id)
    tick = button("Done ✓", playbook_step(step.position), str(step.position), style="primary")
    return section(f"⬜ {text}", block_id=block_id, accessory=tick)
