"""Playbooks as people read them in Slack: ``/incident playbooks`` and the review reminder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from messages.blocks import Block, context, escape_within, header, mention, section, slack_date
from messages.refusals import COMMAND
from messages.text import LIST_BLOCKS_MAX, pack_lines


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
