"""The App Home tab: what a person has on their plate, each with a button to act.

Each item is one section with its button as the accessory, and every list is cut to
``HOME_ITEMS`` (with a line saying how many more), so the view stays within Slack's
100 blocks however many incidents a person is in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from messages.blocks import Block, button, context, divider, escape, header, section, slack_date
from messages.ids import home_checklist, home_playbook_review, home_write, incident_block
from messages.limits import TITLE_MAX
from messages.model import ROLE_LABELS

HOME_ITEMS = 20
"""Items per list: 4 lists of (20 items + a heading, a divider and a "more" line) + the
title stays under Slack's 100 blocks per view (no cut: a view over the limit is an error
to see, not blocks to lose silently)."""


@dataclass(frozen=True)
class HomeRow:
    number: int
    title: str
    channel_id: str | None
    roles: tuple[str, ...] = ()
    status: str = ""
    due: datetime | None = None
    waiting: int = 0
    follow_up_due: date | None = None


@dataclass(frozen=True)
class PlaybookRow:
    name: str
    path: str
    review_by: date


@dataclass(frozen=True)
class HomeLists:
    incidents: Sequence[HomeRow]
    incidents_total: int
    owed: Sequence[HomeRow]
    owed_total: int
    follow_ups: Sequence[HomeRow]
    follow_ups_total: int
    playbooks: Sequence[PlaybookRow]
    now: datetime


def home_view(lists: HomeLists) -> dict[str, object]:
    blocks: list[Block] = [header("Your incidents at a glance")]
    blocks += _part(
        "Customer updates you owe",
        [_owed(row, lists.now) for row in lists.owed],
        lists.owed_total,
        "Nothing owed: customers have heard from you on time.",
    )
    blocks += _part(
        "Customers waiting for your follow-up",
        [_follow_up(row) for row in lists.follow_ups],
        lists.follow_ups_total,
        "Nobody is waiting for your follow-up.",
    )
    blocks += _part(
        "Your open incidents",
        [_incident(row) for row in lists.incidents],
        lists.incidents_total,
        "You have no open incidents.",
    )
    blocks += _part(
        "Playbooks due for review",
        [_playbook(i, row) for i, row in enumerate(lists.playbooks[:HOME_ITEMS])],
        len(lists.playbooks),
        "None of your playbooks is due for review.",
    )
    return {"type": "home", "blocks": blocks}


def _part(title: str, items: list[Block], total: int, empty: str) -> list[Block]:
    blocks: list[Block] = [divider(), section(f"*{title}*")]
    if not items:
        return [*blocks, context(empty)]
    blocks += items[:HOME_ITEMS]
    if total > len(items[:HOME_ITEMS]):
        more = total - len(items[:HOME_ITEMS])
        blocks.append(context(f"…and {more} more: `/incident list` shows every open incident."))
    return blocks


def _label(row: HomeRow) -> str:
    where = f" <#{row.channel_id}>" if row.channel_id else ""
    return f"*INC-{row.number}* {escape(row.title[:TITLE_MAX])}{where}"


def _owed(row: HomeRow, now: datetime) -> Block:
    due = row.due or now
    state = "*overdue* since" if due <= now else "due"
    return section(
        f"{_label(row)}\n{state} {slack_date(due)}",
        block_id=incident_block(row.number, "home", "owed"),
        accessory=button("Write update", home_write(row.number), str(row.number), style="primary"),
    )


def _follow_up(row: HomeRow) -> Block:
    due = f" by {row.follow_up_due:%Y-%m-%d}" if row.follow_up_due else ""
    return section(
        f"{_label(row)}\n{row.waiting} customer(s) to follow up{due}",
        block_id=incident_block(row.number, "home", "follow_up"),
        accessory=button("Follow up", home_checklist(row.number, "follow_up"), str(row.number)),
    )


def _incident(row: HomeRow) -> Block:
    roles = ", ".join(ROLE_LABELS.get(r, r) for r in row.roles) or "Reporter"
    return section(
        f"{_label(row)}\n{roles} · {row.status}",
        block_id=incident_block(row.number, "home", "incident"),
        accessory=button("Customers", home_checklist(row.number, "incident"), str(row.number)),
    )


def _playbook(index: int, row: PlaybookRow) -> Block:
    return section(
        f"*{escape(row.name)}* — review was due {row.review_by:%Y-%m-%d}\n`{escape(row.path)}`",
        accessory=button("How to review", home_playbook_review(index), row.name[:2000]),
    )


def playbook_review_text(name: str, path: str) -> str:
    return (
        f"To review *{escape(name)}*: read its steps and templates in `{escape(path)}`, "
        "change what no longer holds, move `review_by` ahead, and run "
        "`amends playbooks check` before you commit it."
    )
