"""Playbooks in Slack: the declare form's select, the checklist of an applied playbook,
``/incident playbooks`` and the review reminder.

The checklist is one message in the incident channel: a heading and one section per step,
each with a *Done ✓* button until someone ticks it, then who ticked it and when. Steps
beyond what fits Slack's 50 blocks are listed as text (they cannot be ticked, which a
playbook of 48 steps would deserve anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from messages.blocks import (
    SECTION_MAX,
    Block,
    button,
    context,
    escape,
    escape_within,
    header,
    mention,
    option,
    section,
    slack_date,
    static_select,
)
from messages.ids import DeclareFields, incident_block, playbook_step
from messages.model import IncidentCard
from messages.refusals import COMMAND
from messages.text import LIST_BLOCKS_MAX, pack_lines

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


@dataclass(frozen=True)
class PlaybookLine:
    """One playbook in the list: what it is, who keeps it, and where its review stands."""

    name: str
    language: str
    severity: str
    owner: str
    review_by: date
    review_due: bool
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None


def playbooks_blocks(lines: Sequence[PlaybookLine]) -> list[Block]:
    """``/incident playbooks``: one line each, packed into sections, ≤ 45 blocks."""
    if not lines:
        return [section("No playbooks are loaded. Put YAML files in `PLAYBOOKS_DIR`.")]
    due = sum(1 for line in lines if line.review_due)
    blocks: list[Block] = [header(f"Playbooks ({len(lines)})")]
    room = LIST_BLOCKS_MAX - len(blocks) - 2  # one for "and N more", one for the hint
    groups = pack_lines([_line(line) for line in lines], room)
    blocks += [section("\n".join(group)) for group in groups]
    hidden = len(lines) - sum(len(group) for group in groups)
    if hidden > 0:
        blocks.append(context(f"and {hidden} more not shown here"))
    hint = f"`{COMMAND} drill <playbook>` rehearses one"
    if due:
        hint += f"; `{COMMAND} playbook <name> reviewed` records a review ({due} due)"
    blocks.append(context(hint + "."))
    return blocks


def _line(line: PlaybookLine) -> str:
    name = escape_within(line.name, 100)
    review = f"review by {line.review_by.isoformat()}"
    if line.review_due:
        review = f":warning: *review due* (was due {line.review_by.isoformat()})"
    elif line.reviewed_by and line.reviewed_at:
        review += f" · reviewed by {mention(line.reviewed_by)} {slack_date(line.reviewed_at)}"
    return f"*{name}* · {line.severity} · {line.language} · owner {mention(line.owner)} · {review}"


def review_reminder_text(name: str, review_by: date) -> str:
    return (
        f"The playbook “{name}” was due for review on {review_by.isoformat()}. Read it through, "
        f"change what has changed, set a new `review_by:` in its file, then tell me with "
        f"`{COMMAND} playbook {name} reviewed`. I'll remind you weekly until then."
    )


def review_reminder_blocks(name: str, review_by: date) -> list[Block]:
    return [section(f":books: {escape_within(review_reminder_text(name, review_by), 2900)}")]


def reviewed_text(name: str, user_id: str, review_by: date) -> str:
    return (
        f"Recorded: {mention(user_id)} reviewed “{name}” (due {review_by.isoformat()}). "
        "No more reminders until a later `review_by:` date passes."
    )
