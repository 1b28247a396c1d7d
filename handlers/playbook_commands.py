"""The ``/incident`` subcommands about playbooks: ``playbooks`` (the list), ``playbook
<name> reviewed`` and ``drill <playbook>``. Each is named in the table of
``handlers.subcommands``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.invocation import Call
from messages.playbooks import playbooks_blocks
from messages.text import declared_reply_text

REVIEWED = "reviewed"
"""The last word of ``playbook <name> reviewed``."""

Runner = Callable[[Call], Awaitable[None]]


def reviewed_name(rest: str) -> str | None:
    """``Card payments failing reviewed`` → ``Card payments failing``; None when the text
    does not end in ``reviewed`` (then it is the playbook to apply)."""
    words = rest.split()
    if len(words) >= 2 and words[-1].lower() == REVIEWED:
        return " ".join(words[:-1])
    return None


async def list_playbooks(call: Call) -> None:
    lines = await call.services.reviews.lines()
    await call.respond(blocks=playbooks_blocks(lines), text="Playbooks", response_type="ephemeral")


def playbook_runner(apply: Runner) -> Runner:
    """``playbook <name> reviewed`` records the review (from any channel); any other
    ``playbook <name>`` goes to ``apply`` (in an incident channel)."""

    async def playbook(call: Call) -> None:
        name = reviewed_name(call.parsed.rest)
        if name is None:
            await apply(call)
            return
        await call.tell(await call.services.reviews.mark_reviewed(name, call.user_id))

    return playbook


async def drill(call: Call) -> None:
    """``drill <playbook>``: the acknowledgement says it is under way; the link follows,
    to this person only (a drill is announced nowhere)."""
    drills = call.services.drills
    playbook = drills.find(call.parsed.rest)
    await call.ack(text=f"Starting a drill of “{playbook.name}”… the channel link follows.")
    declared = await drills.start(call.client, call.team_id, call.user_id, playbook)
    await call.tell("\n".join([declared_reply_text(declared.card), *declared.warnings]))
