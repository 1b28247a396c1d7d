"""``amends sandbox --script``: a whole incident on a laptop, no Slack workspace.

Starts the Slack API double, the real bot (real HTTP, signed requests) and SQLite in one
process, plays a short incident and prints the conversation as the people in it saw it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.runtime.process import Runtime
from bot.sandbox.double.server import SlackDouble
from bot.sandbox.driver import SlackDriver
from bot.sandbox.rehearsal.close import close_and_follow_up, confirm_contacts
from bot.sandbox.transcript import humanise, render_blocks
from bot.settings import load_settings
from messages import ids
from storage.models import utcnow

PEOPLE = {"UALICE": "alice", "UMARIA": "maria", "UBOB": "bob"}
QUIET_SECONDS = 0.3
FAST_CADENCE = "SEV1=6s,SEV2=10s,SEV3=20s"
"""The rehearsal runs the clock fast so a reminder shows up within the script."""
FAREWELL = "That was a rehearsal: nothing left this machine."


class Rehearsal:
    """Plays steps as people and prints what each step made happen in Slack."""

    def __init__(self, double: SlackDouble, driver: SlackDriver) -> None:
        self.double = double
        self.driver = driver
        self.seen_calls = 0
        self.seen_responses = 0

    def user(self, user_id: str) -> str:
        return PEOPLE.get(user_id, user_id)

    def channel(self, channel_id: str) -> str:
        found = self.double.channel(channel_id)
        return str(found["name"]) if found else channel_id

    def human(self, text: str) -> str:
        return humanise(text, self.user, self.channel)

    async def step(self, who: str, where: str, what: str, act: Callable[[], Awaitable[Any]]) -> Any:
        print(f"\n{self.user(who)} in #{self.channel(where)}: {what}")
        result = await act()
        self.print_ack(result)
        await self.settle()
        return result

    async def incident(self, who: str, where: str, text: str, aside: str = "") -> Any:
        """``/incident <text>`` typed by ``who`` in ``where``; ``aside`` explains the step."""
        shown = f"/incident {text}" + (f"  ({aside})" if aside else "")
        return await self.step(
            who,
            where,
            shown,
            lambda: self.driver.command("/incident", text, user_id=who, channel_id=where),
        )

    def print_ack(self, reply: Any) -> None:
        """Slack shows a slash command's acknowledgement text to its author only."""
        body = reply.json if reply.json is not None else {"text": reply.text}
        if isinstance(body, dict):
            self.print_private(body)

    def print_private(self, body: dict[str, Any]) -> None:
        if body.get("response_action") == "update":
            body = {"blocks": body["view"]["blocks"]}
        elif body.get("response_action") == "errors":
            body = {"text": "; ".join(body["errors"].values())}
        lines = render_blocks(body.get("blocks") or []) or [str(body.get("text") or "")]
        lines = [line for line in lines if line.strip()]
        if lines:
            print(f"   (only you can see this) {self.human(lines[0])}")
        for line in lines[1:]:
            print(f"      {self.human(line)}")

    async def settle(self) -> None:
        """Wait until the bot has gone quiet, then print what it did."""
        last = -1
        while last != len(self.double.calls) + len(self.double.responses):
            last = len(self.double.calls) + len(self.double.responses)
            await asyncio.sleep(QUIET_SECONDS)
        for call in self.double.calls[self.seen_calls :]:
            self.print_call(call.method, call.args, call.response)
        for response in self.double.responses[self.seen_responses :]:
            self.print_private(response.body)
        self.seen_calls = len(self.double.calls)
        self.seen_responses = len(self.double.responses)

    def print_call(self, method: str, args: dict[str, Any], response: dict[str, Any]) -> None:
        if not response.get("ok"):
            print(f"   ! Slack answered {method}: {response.get('error')}")
            return
        channel = str(args.get("channel", ""))
        if method == "conversations.create":
            print(f"   Amends created #{response['channel']['name']}")
        elif method == "conversations.invite":
            print(f"   Amends added @{self.user(str(args['users']))} to #{self.channel(channel)}")
        elif method == "conversations.setTopic":
            print(f"   topic of #{self.channel(channel)}: {self.human(str(args['topic']))}")
        elif method == "pins.add":
            print(f"   Amends pinned the incident header in #{self.channel(channel)}")
        elif method == "views.open":
            print(f"   a form opens: {response['view']['title']['text']}")
        elif method == "files.completeUploadExternal":
            names = ", ".join(f["name"] for f in response["files"])
            print(f"   Amends attached {names} in #{self.channel(str(args.get('channel_id')))}")
        elif method == "conversations.archive":
            print(f"   Amends archived #{self.channel(channel)}")
        elif method in ("chat.postMessage", "chat.update"):
            self.print_message(method, channel, args)

    def print_message(self, method: str, channel: str, args: dict[str, Any]) -> None:
        blocks_arg = args.get("blocks")
        is_header = (
            isinstance(blocks_arg, list)
            and blocks_arg[:1]
            and (blocks_arg[0].get("type") == "header")
        )
        verb = "posted"
        if method == "chat.update":
            verb = "edited the header" if is_header else "edited its message"
        print(f"   [#{self.channel(channel)}] Amends {verb}:")
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        lines = render_blocks(blocks) if blocks else [str(args.get("text", ""))]
        for line in lines:
            print(f"      {self.human(line)}")


@dataclass
class Session:
    """A running sandbox: the rehearsal printer, the bot and the channels people use."""

    rehearsal: Rehearsal
    runtime: Runtime
    general: str


@contextlib.asynccontextmanager
async def sandbox(
    database_url: str | None = None, cadence: str = FAST_CADENCE
) -> AsyncIterator[Session]:
    """The Slack double with its people and channels, and the real bot serving it."""
    workdir = Path(tempfile.mkdtemp(prefix="amends-sandbox-"))
    secret = secrets.token_hex(16)
    double = SlackDouble(
        team_id="T0SANDBOX", team_domain="amends-sandbox", bot_token="xoxb-sandbox"
    )
    await double.start()
    for user_id, name in PEOPLE.items():
        double.add_user(user_id, name)
    general = double.add_channel("general", members=list(PEOPLE))["id"]
    broadcast = double.add_channel("incidents", members=list(PEOPLE), bot_member=True)["id"]
    customers = double.add_channel("status", bot_member=True)["id"]
    try:
        settings = load_settings(
            slack_bot_token="xoxb-sandbox",
            slack_signing_secret=secret,
            slack_api_url=double.api_url,
            slack_app_token=None,
            database_url=database_url or f"sqlite+aiosqlite:///{workdir / 'amends.db'}",
            broadcast_channel=broadcast,
            customer_channel=customers,
            customer_update_cadence=cadence,
            reminder_grace="4s",
            reminder_sweep_seconds=1,
        )
        runtime = await Runtime.start(settings)
    except BaseException:
        await double.stop()
        raise
    await runtime.serve_http(host="127.0.0.1", port=0)
    driver = SlackDriver(bot_url=runtime.events_url, signing_secret=secret, double=double)
    print(
        "Amends sandbox: a local Slack double, the real bot over signed HTTP, SQLite at",
        workdir / "amends.db",
    )
    try:
        yield Session(Rehearsal(double, driver), runtime, general)
    finally:
        await driver.close()
        await runtime.stop()
        await double.stop()


async def run_rehearsal(database_url: str | None = None) -> int:
    async with sandbox(database_url) as session:
        print(f"The clock runs fast here: customer updates are due every {FAST_CADENCE}.")
        await play(session.rehearsal, session.general)
    print(f"\n{FAREWELL}")
    return 0


async def play(r: Rehearsal, general: str) -> None:
    d = r.driver
    title = "Checkout fails for EU cards"
    await r.incident("UALICE", general, f"declare {title}")
    created = [c for c in r.double.calls_to("conversations.create") if c.response.get("ok")]
    channel = str(created[-1].response["channel"]["id"])
    await r.step(
        "UALICE",
        channel,
        "/incident role comms @maria",
        lambda: d.command(
            "/incident", "role comms <@UMARIA|maria>", user_id="UALICE", channel_id=channel
        ),
    )
    header = r.double.messages(channel)[0]
    await r.step(
        "UALICE",
        channel,
        "picks @bob as tech lead in the header",
        lambda: d.click(header, ids.role_select("tech"), user_id="UALICE", selected_user="UBOB"),
    )
    await r.incident("UBOB", channel, "status identified")
    await r.incident("UMARIA", channel, "severity SEV1")
    await r.incident("UMARIA", channel, "stauts monitoring", aside="a typo")
    await r.incident("UMARIA", channel, "customers add Acme Bank, Globex, Initech")
    await customer_updates(r, channel)
    await close_and_follow_up(r, channel)
    await r.incident("UALICE", general, "list")


async def customer_updates(r: Rehearsal, channel: str) -> None:
    """Maria writes a customer update, the tone check helps, then a reminder falls due."""
    d = r.driver
    await r.incident("UMARIA", channel, "update")
    view_id = str(r.double.ok_calls_to("views.open")[-1].response["view"]["id"])
    first = "Our payment provider had an outage. We regret any inconvenience."
    titled = {"update_public_title": {"public_title": "Card payments failing"}}
    await r.step(
        "UMARIA",
        channel,
        f"titles it “Card payments failing” for customers, writes “{first}” and presses Post",
        lambda: d.submit_view(
            view_id, {"update_text": {"text": first}, **titled}, user_id="UMARIA"
        ),
    )
    soon = (utcnow() + timedelta(minutes=30)).strftime("%H:%M")
    better = (
        "We're sorry: card payments at checkout are failing for some of you. We are "
        f"switching payments to a healthy route now. Next update by {soon} UTC."
    )
    await r.step(
        "UMARIA",
        channel,
        "rewrites it and presses Post again",
        lambda: d.submit_view(view_id, {"update_text": {"text": better}}, user_id="UMARIA"),
    )
    print("\n… nobody posts for a while, and the next update falls due …")
    await r.double.wait_for(lambda: reminder_in(r, channel), timeout=30)
    await r.settle()
    reminder = reminder_in(r, channel)
    assert reminder is not None
    await confirm_contacts(r, channel, reminder)


def reminder_in(r: Rehearsal, channel: str) -> dict[str, Any] | None:
    live = [m for m in r.double.messages(channel) if ids.REMINDER_CONTACTED in json.dumps(m)]
    return live[-1] if live else None
