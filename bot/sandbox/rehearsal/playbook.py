"""``amends sandbox --playbook <name>``: a playbook's scenario rehearsed end to end.

The incident is declared with the playbook's name and severity, and at every phase the
comms owner types the playbook's template for that phase, in the playbook's language, with
its placeholders filled in: investigating, identified and monitoring updates, the final
update at the close, and what is said to each customer at the follow-up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.playbooks.catalogue import Catalogue
from bot.playbooks.drafts import Facts
from bot.playbooks.drafts import fill as fill_template
from bot.playbooks.model import Phase, Playbook, Templates
from bot.sandbox.rehearsal.close import record_follow_up
from bot.sandbox.rehearsal.script import FAREWELL, Rehearsal, Session, sandbox
from bot.settings import DEFAULT_CADENCE
from messages.ids import UpdateFields
from storage.models import utcnow

CUSTOMERS = ("Acme Bank", "Globex")
TEAM_ID = "T0SANDBOX"


def playbook_lines(catalogue: Catalogue) -> list[str]:
    """``--list-playbooks``: name, language and severity, one playbook a line."""
    return [f"{p.name}  ({p.language}, {p.severity})" for p in catalogue.playbooks]


def templates_of(playbook: Playbook) -> Templates:
    """The templates in the playbook's own language, else its first language, else none."""
    own = playbook.templates.get(playbook.language)
    if own is not None:
        return own
    return next(iter(playbook.templates.values()), Templates())


def fill(
    text: str, playbook: Playbook, started: datetime, due: datetime | None, customer: str
) -> str:
    """What the comms owner types: the template filled as Amends drafts it, with the
    playbook's summary as the customer-facing title and the impact."""
    facts = Facts(playbook.summary, started, due, impact=playbook.summary, customer=customer)
    return fill_template(text, facts)


async def run_playbook_rehearsal(playbook: Playbook, database_url: str | None = None) -> int:
    """Play ``playbook`` against the sandbox (the normal cadence: no reminder interrupts)."""
    async with sandbox(database_url, cadence=DEFAULT_CADENCE) as session:
        print(
            f"Rehearsing the playbook “{playbook.name}” ({playbook.language}, {playbook.severity})."
        )
        await PlaybookScript(session, playbook).play()
    print(f"\n{FAREWELL}")
    return 0


class PlaybookScript:
    def __init__(self, session: Session, playbook: Playbook) -> None:
        self.r: Rehearsal = session.rehearsal
        self.session = session
        self.playbook = playbook
        self.templates = templates_of(playbook)
        self.channel = ""
        self.started = utcnow()

    async def play(self) -> None:
        await self.declare()
        for phase in ("investigating", "identified", "monitoring"):
            if phase != "investigating":
                await self.command("UALICE", f"status {phase}")
            await self.update(phase)
        await self.close()
        for customer in CUSTOMERS:
            await self.follow_up(customer)

    async def command(self, who: str, text: str, where: str | None = None) -> None:
        await self.r.incident(who, where or self.channel, text)

    async def declare(self) -> None:
        await self.command("UALICE", f"declare {self.playbook.name}", self.session.general)
        created = [
            c for c in self.r.double.calls_to("conversations.create") if c.response.get("ok")
        ]
        self.channel = str(created[-1].response["channel"]["id"])
        self.started = utcnow()
        settings = self.session.runtime.settings
        if self.playbook.severity != settings.default_severity:
            await self.command("UALICE", f"severity {self.playbook.severity}")
        await self.command("UALICE", "role comms <@UMARIA|maria>")
        await self.command("UMARIA", f"customers add {', '.join(CUSTOMERS)}")

    async def text_for(self, phase: Phase, customer: str = "") -> str | None:
        template: str | None = getattr(self.templates, phase)
        if template is None:
            return None
        store = self.session.runtime.services.store
        incident = await store.by_channel(TEAM_ID, self.channel)
        due = incident.next_update_due if incident else None
        return fill(template, self.playbook, self.started, due, customer)

    async def update(self, phase: Phase) -> None:
        text = await self.text_for(phase)
        if text is None:
            print(f"\n(the playbook has no {phase} template in {self.playbook.language})")
            return
        await self.command("UMARIA", "update")
        await self.submit(f"types the {phase} template and presses Post", text)

    async def submit(self, what: str, text: str, who: str = "UMARIA") -> None:
        """Post ``text`` in ``who``'s open composer; if the tone check stops it, post anyway."""
        d = self.r.driver
        view_id = str(self.r.double.ok_calls_to("views.open")[-1].response["view"]["id"])
        f = UpdateFields
        values: dict[str, dict[str, Any]] = {
            f.TEXT_BLOCK: {f.TEXT_ACTION: text},
            f.PUBLIC_TITLE_BLOCK: {f.PUBLIC_TITLE_ACTION: self.playbook.summary},
        }
        reply = await self.r.step(
            who,
            self.channel,
            f"{what}: “{text}”",
            lambda: d.submit_view(view_id, values, user_id=who),
        )
        if isinstance(reply.json, dict) and reply.json.get("response_action") == "update":
            anyway: dict[str, dict[str, Any]] = {
                **values,
                "update_anyway": {"anyway": ["post_anyway"]},
            }
            await self.r.step(
                who,
                self.channel,
                "ticks “Post anyway”",
                lambda: d.submit_view(view_id, anyway, user_id=who),
            )

    async def close(self) -> None:
        d, p = self.r.driver, self.playbook
        await self.command("UALICE", "close")
        view_id = str(self.r.double.ok_calls_to("views.open")[-1].response["view"]["id"])
        form = {
            "close_root_cause": f"(rehearsal) what caused “{p.name}”",
            "close_resolution": "(rehearsal) what fixed it",
            "close_amends": p.compensation or "",
            "close_prevention": "(rehearsal) what stops it happening again",
            "close_follow_up_owner": "UMARIA",
        }
        values = {key: {key: value} for key, value in form.items()}
        await self.r.step(
            "UALICE",
            self.channel,
            "fills in the close form and presses Resolve",
            lambda: d.submit_view(view_id, values, user_id="UALICE"),
        )
        final = await self.text_for("resolved")
        if final is None:
            await self.r.step(
                "UALICE",
                self.channel,
                "posts the proposed final customer update as it is",
                lambda: d.submit_view(view_id, {}, user_id="UALICE"),
            )
            return
        await self.submit("types the resolved template as the final update", final, "UALICE")

    async def follow_up(self, customer: str) -> None:
        said = await self.text_for("follow_up", customer)
        if said is not None:
            print(f"\nmaria calls {customer}: “{said}”")
        await record_follow_up(self.r, self.channel, customer, "satisfied")
