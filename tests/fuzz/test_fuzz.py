"""Property-based fuzzing of the real bot over real, signed HTTP (SQLite only).

Thousands of malformed ``/incident`` texts and interactive payloads are thrown at one
running bot. For each input: no 5xx and no error logged, a 404 only where Bolt has no
listener for it (those are collected and printed), a reply Slack would accept (empty, text,
or JSON whose blocks/views pass the Block Kit checker), every response_url post accepted
by the Slack double, no malformed Web API call, and the answer within 3 seconds.

The bot runs in its own event loop on a background thread, started once per test; the
hypothesis tests are synchronous and hand each input to that loop, then wait until every
task the input started has finished, so a failure belongs to the input that caused it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import string
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

import bot.sandbox.double.responses as double_responses
from bot.incidents.policy import ROLES
from bot.runtime.gate import SIGNATURE_HEADER, TIMESTAMP_HEADER
from bot.sandbox.double.blockkit import validate_blocks, validate_view
from bot.sandbox.double.state import APP_ID
from bot.sandbox.driver import VERIFICATION_TOKEN, DriverReply
from handlers.subcommands import SUBCOMMANDS
from messages import ids
from storage.db import create_engine
from tests.support.harness import (
    ALICE,
    BOB,
    GONE,
    MARIA,
    ROBOT,
    SIGNING_SECRET,
    TEAM,
    Harness,
    start_harness,
    stop_harness,
)
from tests.support.helpers import created_channel, ephemeral_texts

T = TypeVar("T")

SCALE = float(os.environ.get("AMENDS_FUZZ_SCALE", "1"))
"""Multiplies the example counts (e.g. 10 for a long nightly run)."""
COMMAND_EXAMPLES = int(5_000 * SCALE)
INTERACTIVE_EXAMPLES = int(5_000 * SCALE)
BROKEN_EXAMPLES = int(2_000 * SCALE)
SIGNING_EXAMPLES = int(1_000 * SCALE)
ANSWER_WITHIN = 3.0
SETTLE_WITHIN = 30.0
"""How long the work an input started (after the ack) may take before it counts as hung:
a hang, not slowness (seen at 5 s: a batch on a machine loaded by parallel test workers)."""

# Web API errors that mean the bot itself built a request Slack refuses, whatever the input.
MALFORMED_CALL_ERRORS = {
    "invalid_arguments",
    "missing_argument",
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "too_long",
    "view_too_large",
    "invalid_metadata_schema",
    "too_many_attachments",
    "invalid_name_specials",
    "invalid_name_required",
    "invalid_name_punctuation",
    "invalid_name_maxlength",
}
NOTED = "could not tell the user"
"""Logged at ERROR when even the private error answer fails (e.g. a DM to a user id the
workspace does not know). Not an unhandled error: counted and printed, not failed."""
LONG_LIVED_TASKS = ("RequestHandler.start",)
"""aiohttp keep-alive connection tasks: they outlive any one request by design."""


# -- the bot, running in a background event loop --------------------------------------------


@dataclass(frozen=True)
class Input:
    """One request: a slash command (text, channel, user) or a raw signed body."""

    shown: str
    kind: str
    label: str
    command: tuple[str, str, str] | None = None
    body: bytes = b""
    content_type: str | None = None
    malformed: bool = False
    """Slack never sends it, so the bot may refuse it with 400 ``malformed Slack request``."""
    signing: tuple[str, str] | None = None
    """Timestamp and signature header values sent instead of a valid signature; such a
    request must get exactly 401."""


def refusable(item: Input) -> bool:
    """A payload with fields missing or of the wrong type (the interactive and broken
    strategies make those on purpose) may be refused with a clear 400; a slash command's
    text, whatever it says, must be answered."""
    return item.malformed or item.command is None


@dataclass
class Outcome:
    """What one input produced."""

    reply: DriverReply
    has_listener: bool
    listener_error: str | None = None
    stuck: list[str] = field(default_factory=list)


class LiveBot:
    """One harness (Slack double + real bot over HTTP) in an event loop on its own thread."""

    def __init__(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.refused: list[tuple[Any, tuple[str, list[str]]]] = []
        self.no_listener: Counter[str] = Counter()
        self.noted: Counter[str] = Counter()
        self.refused_400: Counter[str] = Counter()
        self.no_listener_examples: dict[str, str] = {}
        self.sent = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-bot", daemon=True)
        self.thread.start()
        self.h: Harness = self.run(self._start(tmp_path), timeout=60)

    def run(self, coro: Awaitable[T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    async def _start(self, tmp_path: Path) -> Harness:
        self.engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}")
        h = await start_harness(self.engine)
        reply = await h.driver.command(
            "/incident", "declare Fuzz target: checkout errors", user_id=ALICE, channel_id=h.general
        )
        await h.double.wait_for(
            lambda: [t for t in ephemeral_texts(h, reply.response_url) if "is open in" in t]
        )
        self.incident_channel = str(created_channel(h)["id"])
        added = await h.driver.command(
            "/incident",
            "customers add Acme, Globex, Initech",
            user_id=ALICE,
            channel_id=self.incident_channel,
        )
        assert added.status == 200
        await h.double.wait_for(lambda: ephemeral_texts(h, added.response_url))
        return h

    def close(self) -> None:
        try:
            self.run(self._stop(), timeout=60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()

    async def _stop(self) -> None:
        await stop_harness(self.h)
        await self.engine.dispose()

    # -- sending ----------------------------------------------------------------------------

    def send(self, inputs: list[Input]) -> list[Outcome]:
        """Send a batch of inputs at once, like several people acting in the same moment."""
        return self.run(self._settled(inputs))

    async def _one(self, item: Input) -> DriverReply:
        if item.command is not None:
            text, channel_id, user_id = item.command
            return await self.h.driver.command(
                "/incident", text, user_id=user_id, channel_id=channel_id
            )
        if item.signing is not None:
            return await self._post_signed_as(item)
        headers = dict(self.h.driver.sign(item.body))
        if item.content_type is not None:
            headers["Content-Type"] = item.content_type
        return await self.h.driver.post_raw(item.body, headers)

    async def _post_signed_as(self, item: Input) -> DriverReply:
        """POST with the item's signing headers as UTF-8 bytes on the wire, as an attacker
        can send them (aiohttp's client would re-encode non-Latin-1 values)."""
        assert item.signing is not None
        stamp, signature = item.signing
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.h.runtime.port)
        head = (
            f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Content-Type: {item.content_type}\r\nContent-Length: {len(item.body)}\r\n"
            f"{TIMESTAMP_HEADER}: {stamp}\r\n{SIGNATURE_HEADER}: {signature}\r\n\r\n"
        )
        writer.write(head.encode() + item.body)
        await writer.drain()
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
        status_line, _, rest = answer.partition(b"\r\n")
        text = rest.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")
        return DriverReply(int(status_line.split()[1]), text, time.perf_counter() - started)

    async def _settled(self, inputs: list[Input]) -> list[Outcome]:
        """Send, then wait for every task the requests started (the work after the ack)."""
        here = asyncio.current_task()
        before = asyncio.all_tasks()
        listeners = [await self._has_listener(item) for item in inputs]
        replies = await asyncio.gather(*(self._one(item) for item in inputs))
        deadline = self.loop.time() + SETTLE_WITHIN
        pending: list[asyncio.Task[Any]] = []
        while True:
            pending = [
                t
                for t in asyncio.all_tasks() - before
                if t is not here and not t.done() and not _long_lived(t)
            ]
            remaining = deadline - self.loop.time()
            if not pending or remaining <= 0:
                break
            await asyncio.wait(pending, timeout=remaining)
        stuck = [repr(t.get_coro()) for t in pending]
        self.sent += len(inputs)
        return [
            Outcome(reply, found, error, stuck)
            for reply, (found, error) in zip(replies, listeners, strict=True)
        ]

    async def _has_listener(self, item: Input) -> tuple[bool, str | None]:
        """Whether any of the app's Bolt listeners matches this request (ground truth)."""
        if item.command is not None:
            body = urlencode({"command": "/incident", "text": item.command[0]})
            headers = {"content-type": [FORM]}
        else:
            body = item.body.decode()
            headers = {"content-type": [item.content_type]} if item.content_type else {}
        try:
            request = AsyncBoltRequest(body=body, headers=headers)  # type: ignore[arg-type]
            for listener in self.h.runtime.app._async_listeners:
                if await listener.async_matches(req=request, resp=BoltResponse(status=200)):
                    return True, None
        except Exception as exc:  # Bolt cannot even read it: no listener can run
            return False, repr(exc)
        return False, None

    # -- checking ---------------------------------------------------------------------------

    def marks(self) -> tuple[int, int, int]:
        """Where the logs, the double's responses and its API calls are before an input."""
        double = self.h.double
        return len(self.caplog.records), len(double.responses), len(double.calls)

    def reply_problems(self, item: Input, outcome: Outcome) -> list[str]:
        """What is wrong with the HTTP answer to one input."""
        reply = outcome.reply
        found: list[str] = []
        if item.signing is not None:
            return [] if reply.status == 401 else [f"HTTP {reply.status} instead of 401"]
        if reply.status == 404 and not outcome.has_listener:
            self.no_listener[item.label] += 1
            self.no_listener_examples.setdefault(item.label, item.shown[:160])
        elif reply.status == 400 and refusable(item) and "malformed Slack request" in reply.text:
            self.refused_400[reply.text[:100]] += 1
        elif reply.status != 200:
            found.append(f"HTTP {reply.status}: {reply.text[:300]!r}")
        if reply.elapsed > ANSWER_WITHIN:
            found.append(f"answered after {reply.elapsed:.2f}s")
        if reply.status == 200:
            found += body_problems(reply.text, item.kind)
        return found

    def side_problems(self, marks: tuple[int, int, int], outcomes: list[Outcome]) -> list[str]:
        """What went wrong behind the answers: logs, response_url posts, API calls, hangs."""
        logs, responses, calls = marks
        found = [f"still running after {SETTLE_WITHIN}s: {s}" for s in outcomes[0].stuck]
        formatter = logging.Formatter()
        for record in self.caplog.records[logs:]:
            if record.levelno >= logging.ERROR and record.getMessage().startswith(NOTED):
                self.noted[record.getMessage()[:100] + " | " + _last_line(record)] += 1
            elif record.levelno >= logging.ERROR:
                trace = formatter.formatException(record.exc_info) if record.exc_info else ""
                found.append(f"ERROR {record.name}: {record.getMessage()}\n{trace[-2500:]}")
        while self.refused:
            body, (code, why) = self.refused.pop()
            found.append(f"response_url post refused ({code}: {why[:3]}): {str(body)[:300]}")
        for response in self.h.double.responses[responses:]:
            blocks = response.body.get("blocks")
            if blocks is not None and validate_blocks(blocks, "message"):
                found.append(f"response_url post with invalid blocks: {validate_blocks(blocks)}")
        for call in self.h.double.calls[calls:]:
            error = call.response.get("error")
            if error in MALFORMED_CALL_ERRORS:
                found.append(f"{call.method} refused with {error}: {str(call.args)[:300]}")
        return found

    def check(self, inputs: list[Input]) -> None:
        """Send a batch and assert every property; the message names the inputs."""
        marks = len(self.caplog.records), len(self.h.double.responses), len(self.h.double.calls)
        outcomes = self.send(inputs)
        lines: list[str] = []
        for item, outcome in zip(inputs, outcomes, strict=True):
            for problem in self.reply_problems(item, outcome):
                lines.append(f"{item.kind} {item.shown[:1500]}\n  -> {problem}")
        side = self.side_problems(marks, outcomes)
        if side:
            lines.append("in this batch:\n  " + "\n  ".join(i.shown[:1500] for i in inputs))
            lines += [f"  -> {problem}" for problem in side]
        assert not lines, "\n".join(lines)


def _last_line(record: logging.LogRecord) -> str:
    if not record.exc_info or record.exc_info[1] is None:
        return ""
    error = record.exc_info[1]
    return f"{type(error).__name__}: {str(error)[:120]}"


def _long_lived(task: asyncio.Task[Any]) -> bool:
    coro = task.get_coro()
    return getattr(coro, "__qualname__", "") in LONG_LIVED_TASKS


def body_problems(text: str, kind: str) -> list[str]:
    """Problems with a 200 answer's body, as Slack would read it for ``kind`` of request."""
    if not text:
        return []
    try:
        answer = json.loads(text)
    except ValueError:
        return [] if kind == "command" else [f"a {kind} answered with non-JSON {text[:200]!r}"]
    if not isinstance(answer, dict):
        return [f"answer is JSON but not an object: {text[:200]!r}"]
    problems: list[str] = []
    if "blocks" in answer:
        problems += validate_blocks(answer["blocks"], "message")
    if kind == "command" and answer and not (answer.get("text") or answer.get("blocks")):
        problems.append(f"command answer without text or blocks: {text[:200]!r}")
    if len(str(answer.get("text") or "")) > 3000:
        problems.append(f"answer text of {len(answer['text'])} characters")
    action = answer.get("response_action")
    if action in ("update", "push"):
        problems += validate_view(answer.get("view"))
    elif action == "errors":
        errors = answer.get("errors")
        if not isinstance(errors, dict) or not errors:
            problems.append(f"response_action errors without errors: {text[:200]!r}")
        else:
            for block_id, message in errors.items():
                if not block_id or not isinstance(message, str) or not message.strip():
                    problems.append(f"bad error entry {block_id!r}: {message!r}")
    elif action is not None:
        problems.append(f"unknown response_action {action!r}")
    return problems


@pytest.fixture
def live(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveBot]:
    caplog.set_level(logging.ERROR)
    real = double_responses.response_problems
    bot: LiveBot | None = None

    def recording(body: Any) -> tuple[str, list[str]] | None:
        refused = real(body)
        if refused is not None and bot is not None:
            bot.refused.append((body, refused))
        return refused

    monkeypatch.setattr(double_responses, "response_problems", recording)
    bot = LiveBot(tmp_path, caplog)
    try:
        yield bot
    finally:
        bot.close()
        if bot.noted:
            print(f"\nERROR logs counted but not failed ({NOTED!r}):")
            for line, count in bot.noted.most_common():
                print(f"  {count:5d} x {line}")
        if bot.refused_400:
            print(f"\n400 for {sum(bot.refused_400.values())} malformed inputs:")
            for text, count in bot.refused_400.most_common():
                print(f"  {count:5d} x {text}")
        if bot.no_listener:
            print(f"\n404 (no Bolt listener) for {sum(bot.no_listener.values())} inputs:")
            for label, count in bot.no_listener.most_common():
                print(f"  {count:5d} x {label}   e.g. {bot.no_listener_examples[label]}")


SHRINK = os.environ.get("AMENDS_FUZZ_SHRINK") == "1"
RANDOM = os.environ.get("AMENDS_FUZZ_RANDOM") == "1"
"""The default run uses hypothesis' fixed seed, so a CI failure reproduces exactly;
AMENDS_FUZZ_RANDOM=1 explores new inputs on every run (how the bugs fixed so far were found)."""
"""Shrinking a failing batch of 8 requests can take minutes; off unless asked for. The
failure message names each failing input and what went wrong with it either way."""
FUZZ = settings(
    deadline=None,
    phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if SHRINK else [])],
    database=None,
    derandomize=not RANDOM,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)


# -- strategies: pieces --------------------------------------------------------------------

CHARS = st.characters(exclude_categories=("Cs",))  # Slack cannot send lone surrogates
CONTROL = st.characters(max_codepoint=0x1F) | st.sampled_from(
    "\x7f\x85\u200b\u200d\u200e\u202e\u2028\u2029\ufeff\u00a0\u3000\ufffd"
)
words = st.text(CHARS, max_size=24)
controls = st.text(CONTROL, min_size=1, max_size=6)
huge = st.builds(
    lambda chunk, size: (chunk * (size // len(chunk) + 1))[:size],
    st.text(CHARS, min_size=1, max_size=16),
    st.integers(1_000, 10_500),
)
user_ids = st.sampled_from(
    [ALICE, BOB, MARIA, GONE, ROBOT, "UAMENDSBOT", "U123", "W0EXTERNAL", "UNOBODY", "U1"]
) | st.from_regex(r"[UWB][A-Z0-9]{0,12}", fullmatch=True)
channel_ids = st.sampled_from(["C1", "C0NOPE", "D0DM", "G0PRIV"]) | st.from_regex(
    r"[CDG][A-Z0-9]{0,12}", fullmatch=True
)
mentions = st.one_of(
    st.builds("<@{}|{}>".format, user_ids, words.map(lambda s: s.replace(">", ""))),
    st.builds("<@{}>".format, user_ids),
    st.builds("<#{}>".format, channel_ids),
    st.builds("<#{}|{}>".format, channel_ids, words),
    st.sampled_from(
        [
            "<!channel>",
            "<!here>",
            "<!everyone>",
            "<!subteam^S0ONCALL|@oncall>",
            "<!date^1392734382^{date_short}|Feb 18, 2014>",
            "<https://example.com|a link>",
            "<mailto:a@example.com>",
            "@maria",
            "<@>",
            "<@U>",
            "<@ualice>",
            "<@UALICE",
            "UALICE>",
            "<@UALICE|maria|x>",
            "<<@UALICE>>",
            "&lt;@UALICE&gt;",
        ]
    ),
)
numbers = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        ["0", "-1", "1e9", "\u0663", "\uff11\uff12", "0x1F", "1_000", "09", "99999999999"]
    ),
)
KEYWORDS = [
    *SUBCOMMANDS,
    "lead",
    "comms",
    "tech",
    "scribe",
    "LEAD",
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "closed",
    "Monitoring",
    "SEV1",
    "SEV2",
    "SEV3",
    "sev1",
    "SEV0",
    "SEV4",
    "add",
    "remove",
    "ADD",
    "30d",
    "90d",
    "7d",
    "30D",
    "Acme, Globex",
    "Acme,,Globex",
    ",",
    ";",
    "Acme",
    "*bold*",
    "`code`",
    "```",
    "~~",
    "&amp;",
    "<>",
    "%",
    "\\",
    '"',
    "'",
    "{}",
    "[]",
    "null",
]
tokens = st.one_of(
    st.sampled_from(KEYWORDS), mentions, numbers, words, controls, st.text(string.printable)
)
separators = st.sampled_from([" ", " ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", " \n "])
subcommands = st.one_of(
    st.sampled_from(SUBCOMMANDS),
    st.sampled_from(SUBCOMMANDS).map(str.upper),
    st.sampled_from(SUBCOMMANDS).map(str.title),
    st.sampled_from(["decl", "rol", "statuss", "lst", "helpp", "🔥", "declare\u200b", "stat"]),
    words,
    st.just(""),
)


@st.composite
def command_texts(draw: st.DrawFn) -> str:
    shape = draw(st.sampled_from(["words", "words", "words", "huge", "raw", "empty"]))
    if shape == "empty":
        return draw(st.sampled_from(["", " ", "\n", "\t", "\u00a0", "\u200b", "\x00"]))
    if shape == "raw":
        return draw(st.text(CHARS, max_size=300))
    head = draw(subcommands)
    if shape == "huge":
        return head + draw(separators) + draw(huge)
    parts = draw(st.lists(tokens, max_size=6))
    text = head
    for part in parts:
        text += draw(separators) + part
    lead = draw(st.sampled_from(["", "", " ", "\n", "\u00a0"]))
    return lead + text + draw(st.sampled_from(["", "", " ", "\n"]))


# -- strategies: interactive payloads ------------------------------------------------------
#
# Two kinds: Slack-shaped payloads (the containers Slack always sends are there and of the
# right type; optional fields come and go; the values in them are random, of any type) and
# broken ones (any field may be missing or junk of any type, at any level).

MISSING = object()
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    words,
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
    max_leaves=6,
)


def maybe(strategy: st.SearchStrategy[Any], broken: bool = True) -> st.SearchStrategy[Any]:
    """Mostly ``strategy``; sometimes absent; when ``broken``, sometimes junk of any type."""
    if broken:
        return st.one_of(strategy, strategy, strategy, junk, st.just(MISSING))
    return st.one_of(strategy, strategy, strategy, st.just(MISSING))


def compact(data: Any) -> Any:
    """``data`` without the keys drawn as MISSING, at any depth."""
    if isinstance(data, dict):
        return {key: compact(value) for key, value in data.items() if value is not MISSING}
    if isinstance(data, list):
        return [compact(value) for value in data if value is not MISSING]
    return data


ACTION_IDS = [
    *(ids.role_select(role) for role in (*ROLES, "nobody")),
    ids.SEVERITY_SELECT,
    ids.STATUS_SELECT,
    ids.SHOW_CHECKLIST,
    ids.CHECKLIST_PREV,
    ids.CHECKLIST_NEXT,
    ids.contact_confirm(1),
    ids.contact_confirm(999999999999999999),
    ids.CONTACT_ALL,
    ids.follow_up_answer(1),
    ids.CLOSE_INCIDENT,
    ids.POST_FINAL_UPDATE,
    ids.POST_UPDATE,
    ids.REMINDER_WRITE,
    ids.REMINDER_CONTACTED,
    *(ids.reminder_snooze(minutes) for minutes in (*ids.SNOOZE_MINUTES, 45)),
]
action_ids = st.one_of(
    st.sampled_from(ACTION_IDS),
    st.sampled_from(ACTION_IDS),
    st.sampled_from(ACTION_IDS).map(lambda a: a + "x"),
    st.sampled_from(  # the prefixes alone, without the value they carry
        [
            ids.role_select(""),
            ids.contact_confirm(0).removesuffix("0"),
            ids.follow_up_answer(0).removesuffix("0"),
        ]
    ),
    words.filter(bool),  # Slack's action_ids are 1-255 characters
)
block_ids = st.one_of(
    st.sampled_from(
        [
            "incident:1:state",
            "incident:1:roles",
            "incident:1:checklist:contact:0",
            "incident:1:checklist:follow_up:0",
            "incident:1:customer:1",
            "incident:1:reminder",
            "incident:1:resolved",
            "incident:1:follow_up_reminder",
            "incident:1:",
            "incident:1:checklist:contact:x",
            "incident:0:state",
            "incident:999999999:state",
            "incident::state",
            "incident:1",
        ]
    ),
    st.builds("incident:{}:{}".format, st.integers(0, 10**12), words),
    words,
)
values = st.one_of(
    st.sampled_from(
        [
            "contact",
            "follow_up",
            "contact:0",
            "contact:1",
            "follow_up:-1",
            "contact:99999999999",
            "1:0",
            "2:0",
            "999:0",
            "1:yes:0",
            "1:no:0",
            "1:maybe:0",
            "0:0:0",
            "::",
            ":",
            "",
            "SEV1",
            "SEV9",
            "investigating",
            "resolved",
            "post_anyway",
        ]
    ),
    words,
    numbers,
    huge,
)
leaf_values = st.one_of(values, values, junk)
"""A value a person picked or typed: usually text, sometimes of a type Slack never sends."""
options = st.one_of(st.none(), st.builds(lambda v: {"value": v}, maybe(leaf_values, False)), junk)
teams = st.sampled_from([TEAM, "T0OTHER"])
broken_teams = st.sampled_from([TEAM, "T0OTHER", ""])


class Urls:
    """Things a payload can carry that point at the double (never at the real network)."""

    def __init__(self, bot: LiveBot) -> None:
        self.bot = bot

    def response_url(self) -> st.SearchStrategy[Any]:
        double = self.bot.h.double
        fresh = st.builds(
            lambda channel: double.new_response_url(
                "actions", channel_id=channel, user_id=ALICE, team_id=TEAM
            ),
            st.sampled_from([self.bot.h.general, self.bot.incident_channel, "C0NOPE"]),
        )
        unknown = st.just(f"{double.base_url}/response/actions/rnotissued")
        return st.one_of(fresh, fresh, unknown, st.just(MISSING))

    def trigger_id(self) -> st.SearchStrategy[Any]:
        double = self.bot.h.double
        fresh = st.builds(lambda: double.issue_trigger_id(ALICE, team_id=TEAM))
        return st.one_of(fresh, fresh, st.just("1.2.nope"), st.just(MISSING))

    def channel(self) -> st.SearchStrategy[Any]:
        return st.sampled_from([self.bot.h.general, self.bot.incident_channel]) | channel_ids


def users(team: Any, broken: bool) -> st.SearchStrategy[Any]:
    person = st.fixed_dictionaries(
        {"id": maybe(user_ids) if broken else user_ids, "team_id": st.just(team)},
        optional={"name": words, "username": words},
    )
    return maybe(person, broken) if broken else person


@st.composite
def actions(draw: st.DrawFn, broken: bool) -> dict[str, Any]:
    return {
        "type": draw(
            maybe(st.sampled_from(["button", "static_select", "users_select", "overflow"]), broken)
        ),
        "action_id": draw(maybe(action_ids, broken)) if broken else draw(action_ids),
        "block_id": draw(maybe(block_ids, broken)),
        "value": draw(st.one_of(leaf_values, st.just(MISSING))),
        "selected_option": draw(st.one_of(options, st.just(MISSING))),
        "selected_user": draw(st.one_of(user_ids, junk, st.just(MISSING))),
        "action_ts": draw(maybe(st.just(f"{time.time():.6f}"), broken)),
    }


@st.composite
def block_actions(draw: st.DrawFn, urls: Urls, broken: bool) -> dict[str, Any]:
    team = draw(broken_teams if broken else teams)
    channel = draw(maybe(urls.channel(), broken))
    container = st.fixed_dictionaries(
        {
            "type": st.sampled_from(["message", "view", "bogus"]),
            "channel_id": st.just(channel),
            "message_ts": maybe(st.just("1700000000.000100"), broken),
            "is_ephemeral": st.booleans(),
        }
    )
    one_action = st.lists(actions(broken), min_size=1, max_size=1)
    payload = {
        "type": "block_actions",
        "user": draw(users(team, broken)),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "team": draw(maybe(st.just({"id": team, "domain": "x"}), broken)),
        "trigger_id": draw(urls.trigger_id()),
        "container": draw(maybe(container, broken)),
        "channel": draw(maybe(st.just({"id": channel, "name": "x"}), broken)),
        "response_url": draw(urls.response_url()),
        "actions": draw(
            st.one_of(one_action, st.lists(actions(broken), max_size=3), junk, st.just(MISSING))
            if broken
            else one_action
        ),
        "enterprise": None,
        "is_enterprise_install": draw(maybe(st.just(False), broken)),
    }
    if draw(st.booleans()):
        payload["view"] = draw(views(urls, broken))
    return payload


CALLBACK_IDS = [
    ids.DECLARE_CALLBACK_ID,
    ids.UPDATE_CALLBACK_ID,
    ids.CUSTOMERS_CALLBACK_ID,
    ids.CLOSE_CALLBACK_ID,
]
INPUTS = {
    "declare_title": ["title"],
    "declare_severity": ["severity"],
    "declare_description": ["description"],
    "declare_impact": ["impact"],
    "declare_impact_text": ["impact_text"],
    "declare_customers": ["customers"],
    "update_text": ["text"],
    "update_anyway": ["anyway"],
    "customers_names": ["names"],
    **{
        block: [block]
        for block in (
            "close_root_cause",
            "close_resolution",
            "close_impact",
            "close_amends",
            "close_prevention",
            "close_follow_up_owner",
            "close_follow_up_due",
        )
    },
}
dates = st.one_of(
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
    st.sampled_from(["2024-02-30", "tomorrow", "", "2024-1-1", "9999-12-31", "0000-00-00"]),
)
element_values = st.one_of(
    st.builds(
        lambda v: {"type": "plain_text_input", "value": v},
        st.one_of(st.none(), leaf_values, huge, st.just(MISSING)),
    ),
    st.builds(lambda o: {"type": "static_select", "selected_option": o}, options),
    st.builds(lambda o: {"type": "radio_buttons", "selected_option": o}, options),
    st.builds(lambda u: {"type": "users_select", "selected_user": u}, st.none() | user_ids | junk),
    st.builds(lambda d: {"type": "datepicker", "selected_date": d}, st.none() | dates | junk),
    st.builds(
        lambda opts: {"type": "checkboxes", "selected_options": opts},
        st.lists(options, max_size=2) | junk,
    ),
)


@st.composite
def state_values(draw: st.DrawFn, broken: bool) -> Any:
    if broken and draw(st.integers(0, 4)) == 0:
        return draw(junk)
    blocks = draw(st.lists(st.sampled_from(sorted(INPUTS)) | words, max_size=6, unique=True))
    state: dict[str, Any] = {}
    for block in blocks:
        action_id = draw(st.sampled_from(INPUTS.get(block, ["x"])) | words)
        element = st.builds(lambda v, a=action_id: {a: v}, maybe(element_values, broken))
        state[block] = draw(maybe(element, broken) if broken else element)
    return state


metadata = st.one_of(
    st.builds(lambda n: json.dumps({"incident": n}), st.sampled_from([1, 2, 0, -1, 10**12])),
    st.builds(lambda n: json.dumps({"incident": n}), junk),
    st.builds(
        lambda kind: json.dumps({"incident": 1, "kind": kind}), st.sampled_from(["resolved", "x"])
    ),
    st.builds(json.dumps, junk),
    words,
    st.just(""),
)


@st.composite
def views(draw: st.DrawFn, urls: Urls, broken: bool) -> Any:
    private = draw(maybe(metadata, broken))
    if draw(st.integers(0, 4)) == 0:
        response_url = draw(urls.response_url())
        channel = draw(maybe(urls.channel(), broken))
        private = json.dumps(compact({"channel_id": channel, "response_url": response_url}))
    state = st.builds(lambda v: {"values": v}, state_values(broken))
    callback = st.sampled_from(CALLBACK_IDS) | words
    view = {
        "id": draw(maybe(st.just("V0FUZZ")) if broken else st.just("V0FUZZ")),
        "team_id": draw(teams),
        "type": draw(maybe(st.sampled_from(["modal", "home"])) if broken else st.just("modal")),
        "callback_id": draw(maybe(callback) if broken else callback),
        "private_metadata": private,
        "state": draw(maybe(state) if broken else state),
        "blocks": draw(maybe(st.just([]), broken)),
        "hash": "1700000000.abc",
        "title": {"type": "plain_text", "text": "Fuzz"},
    }
    return view


@st.composite
def view_submissions(draw: st.DrawFn, urls: Urls, broken: bool) -> dict[str, Any]:
    team = draw(broken_teams if broken else teams)
    view = views(urls, broken)
    return {
        "type": draw(st.sampled_from(["view_submission", "view_submission", "view_closed"])),
        "team": draw(maybe(st.just({"id": team, "domain": "x"}), broken)),
        "user": draw(users(team, broken)),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": draw(urls.trigger_id()),
        "view": draw(maybe(view, broken) if broken else view),
        "response_urls": draw(maybe(st.just([]), broken)),
        "is_enterprise_install": False,
        "enterprise": None,
    }


OTHER_TYPES = [
    "shortcut",
    "message_action",
    "block_suggestion",
    "interactive_message",
    "dialog_submission",
    "dialog_cancellation",
    "workflow_step_edit",
    "event_callback",
    "app_rate_limited",
]


@st.composite
def other_payloads(draw: st.DrawFn, urls: Urls, broken: bool) -> dict[str, Any]:
    team = draw(broken_teams if broken else teams)
    kind = st.sampled_from(OTHER_TYPES)
    callback = st.sampled_from([*CALLBACK_IDS, *ACTION_IDS]) | words.filter(bool)
    return {
        "type": draw(maybe(kind | words, broken)) if broken else draw(kind),
        "callback_id": draw(maybe(callback) if broken else callback),
        "action_id": draw(maybe(action_ids, broken)),
        "team": draw(maybe(st.just({"id": team}), broken)),
        "user": draw(users(team, broken)),
        "trigger_id": draw(urls.trigger_id()),
        "response_url": draw(urls.response_url()),
        "value": draw(maybe(leaf_values, broken)),
        "extra": draw(junk),
        # what Slack always sends with interactive_message and workflow_step_edit
        "actions": [{"name": "x", "type": "button", "value": draw(leaf_values)}],
        "workflow_step": {"workflow_step_edit_id": "1.2.x"},
    }


def payloads(urls: Urls, broken: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        block_actions(urls, broken),
        block_actions(urls, broken),
        block_actions(urls, broken),
        view_submissions(urls, broken),
        view_submissions(urls, broken),
        other_payloads(urls, broken),
    )


def form(payload_text: str) -> bytes:
    return urlencode({"payload": payload_text}).encode()


FORM = "application/x-www-form-urlencoded"


BATCH = 8
"""Inputs sent at once per hypothesis example (Bolt polls for the ack every 10 ms, so one
at a time would take minutes); a failing batch shrinks to one culprit and trivial others."""


def describe(payload: Any) -> str:
    """A short label grouping inputs that got a 404, for the report."""
    if not isinstance(payload, dict):
        return f"payload is {type(payload).__name__}"
    kind = payload.get("type", "<no type>")
    if kind == "block_actions":
        acts = payload.get("actions")
        first = acts[0] if isinstance(acts, list) and acts and isinstance(acts[0], dict) else None
        if first is None:
            return f"block_actions, actions={str(acts)[:20]}"
        action_id = first.get("action_id", "<none>")
        known = isinstance(action_id, str) and action_id in ACTION_IDS
        return f"block_actions, {'known' if known else 'unknown'} action_id"
    if kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        callback = view.get("callback_id") if isinstance(view, dict) else None
        known = isinstance(callback, str) and callback in CALLBACK_IDS
        return f"{kind}, {'known' if known else 'unknown'} callback_id"
    return f"type={str(kind)[:30]!r}"


def payload_input(payload: dict[str, Any], malformed: bool = False) -> Input:
    payload = compact(payload)
    shown = json.dumps(payload, ensure_ascii=False)
    return Input(
        shown,
        str(payload.get("type")),
        describe(payload),
        body=form(shown),
        content_type=FORM,
        malformed=malformed,
    )


def batches(inputs: st.SearchStrategy[Input]) -> st.SearchStrategy[list[Input]]:
    return st.lists(inputs, min_size=BATCH, max_size=BATCH)


# -- the tests -------------------------------------------------------------------------------


def test_incident_command_texts_never_break_the_bot(live: LiveBot) -> None:
    general, incident = live.h.general, live.incident_channel

    def command(text: str, channel: str, user: str) -> Input:
        where = "#general" if channel == general else "the incident channel"
        return Input(
            f"/incident {text!r} in {where} by {user}",
            "command",
            "slash command",
            command=(text, channel, user),
        )

    commands = st.builds(
        command,
        command_texts(),
        st.sampled_from([general, incident]),
        st.sampled_from([ALICE, ALICE, BOB, MARIA]),
    )

    @settings(FUZZ, max_examples=-(-COMMAND_EXAMPLES // BATCH))
    @given(batch=batches(commands))
    def probe(batch: list[Input]) -> None:
        live.check(batch)

    start = live.sent
    probe()
    assert live.sent - start >= COMMAND_EXAMPLES


def test_interactive_payloads_never_break_the_bot(live: LiveBot) -> None:
    """Slack-shaped block_actions, view submissions and other types, with random values."""

    @settings(FUZZ, max_examples=-(-INTERACTIVE_EXAMPLES // BATCH))
    @given(batch=batches(payloads(Urls(live), broken=False).map(payload_input)))
    def probe(batch: list[Input]) -> None:
        live.check(batch)

    start = live.sent
    probe()
    assert live.sent - start >= INTERACTIVE_EXAMPLES


def raw(body: bytes, content_type: str | None) -> Input:
    return Input(
        f"{content_type}: {body[:500]!r}",
        "raw",
        f"raw body ({content_type})",
        body=body,
        content_type=content_type,
        malformed=True,
    )


raw_bodies = st.one_of(
    st.builds(lambda p: raw(form(p), FORM), st.text(CHARS, max_size=200)),  # not JSON
    st.builds(lambda p: raw(form(json.dumps(p)), FORM), junk),  # JSON, maybe not an object
    st.builds(lambda p: raw(form(p), FORM), st.sampled_from(["{", "[]", "null", "1", '"x"', "{}"])),
    st.builds(lambda t: raw(urlencode({"foo": t}).encode(), FORM), words),  # no payload field
    st.builds(lambda t: raw(t.encode(), FORM), st.text(CHARS, max_size=200)),
    st.builds(lambda p: raw(json.dumps(p).encode(), "application/json"), junk),
    st.just(raw(b"", FORM)),
    st.just(raw(b"", None)),
)


def test_broken_payloads_never_break_the_bot(live: LiveBot) -> None:
    """Payloads Slack would never send: missing or junk fields at any level, junk JSON in
    ``payload``, a ``payload`` that is not JSON, bodies without one."""
    broken = st.one_of(
        payloads(Urls(live), broken=True).map(lambda p: payload_input(p, malformed=True)),
        payloads(Urls(live), broken=True).map(lambda p: payload_input(p, malformed=True)),
        raw_bodies,
    )

    @settings(FUZZ, max_examples=-(-BROKEN_EXAMPLES // BATCH))
    @given(batch=batches(broken))
    def probe(batch: list[Input]) -> None:
        live.check(batch)

    start = live.sent
    probe()
    assert live.sent - start >= BROKEN_EXAMPLES


# -- signing headers -------------------------------------------------------------------------

HEADER_CHARS = st.characters(exclude_categories=("Cs", "Cc"))
"""What an HTTP header value can carry (no control characters, so no CR/LF), sent as
UTF-8 bytes."""
OTHER_DIGITS = [0x660, 0x6F0, 0x966, 0xFF10, 0x1D7CE]
"""Where 0-9 start in Arabic-Indic, Persian, Devanagari, fullwidth and mathematical digits:
``str.isdigit()`` is true for them and ``int()`` reads them as numbers."""


def now_stamp() -> str:
    return str(int(time.time()))


def in_other_digits(stamp: str, zero: int) -> str:
    return stamp.translate({ord(d): zero + int(d) for d in "0123456789"})


timestamps = st.one_of(
    st.builds(in_other_digits, st.builds(now_stamp), st.sampled_from(OTHER_DIGITS)),
    # (not " " + now: HTTP strips it, so with the valid signature that is a valid request)
    st.builds(lambda sign: sign + now_stamp(), st.sampled_from(["+", "-", "0", "00"])),
    st.builds(lambda n: str(n), st.integers(-(10**15), 10**15)),
    st.builds(lambda f: repr(f), st.floats(allow_nan=True, allow_infinity=True)),
    st.builds(lambda: f"{time.time():.3f}"),
    st.builds(lambda n: "9" * n, st.integers(13, 7_000)),
    st.sampled_from(["", " ", "\u00b2", "1_700_000_000", "0x1F", "1e9", "-5", "+123", "1.5"]),
    st.text(HEADER_CHARS, max_size=40),
)
hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
signatures = st.one_of(
    st.builds(lambda h: "v0=" + h, st.text("0123456789abcdefABCDEFg", max_size=130)),
    st.builds(lambda h: "v0=" + h.upper(), hex64),
    st.builds(lambda p, h: p + h, st.sampled_from(["", "v1=", "V0=", "v0:", " v0="]), hex64),
    st.builds(lambda h: "v0=" + h, st.text(HEADER_CHARS, max_size=70)),
    st.builds(lambda n: "v0=" + "0" * n, st.integers(65, 7_000)),
    st.text(HEADER_CHARS, max_size=80),
    st.just(""),
)


def stamp_signed_over(body: bytes) -> st.SearchStrategy[tuple[str, str]]:
    """An oddly written timestamp with a correct HMAC over it: the verifier must not
    read ``+1700000000`` or Arabic-Indic digits as a valid time."""
    odd = st.one_of(
        st.builds(in_other_digits, st.builds(now_stamp), st.sampled_from(OTHER_DIGITS)),
        st.builds(lambda sign: sign + now_stamp(), st.sampled_from(["+", " ", "\u00a0"])),
        st.builds(lambda: now_stamp() + ".0"),
        st.builds(lambda: "_".join(now_stamp())),
    )
    return odd.map(lambda stamp: (stamp, sign_over(stamp, body)))


def sign_over(stamp: str, body: bytes) -> str:
    base = b"v0:" + stamp.encode() + b":" + body
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


def test_malformed_signing_headers_never_break_the_bot(live: LiveBot) -> None:
    """Timestamp and signature headers Slack never sends: always 401, never a 5xx."""
    body = urlencode(
        {
            "command": "/incident",
            "text": "declare Signed by nobody",
            "team_id": TEAM,
            "user_id": ALICE,
            "channel_id": live.h.general,
        }
    ).encode()
    good = live.h.driver.sign(body)

    def signing_input(headers: tuple[str, str]) -> Input:
        return Input(
            f"headers {headers!r}"[:300],
            "raw",
            "signing headers",
            body=body,
            content_type=FORM,
            signing=headers,
        )

    headers = st.one_of(
        st.tuples(timestamps, signatures),
        st.tuples(timestamps, st.just(good[SIGNATURE_HEADER])),
        st.tuples(st.builds(now_stamp), signatures),
        stamp_signed_over(body),
    )

    @settings(FUZZ, max_examples=-(-SIGNING_EXAMPLES // BATCH))
    @given(batch=batches(headers.map(signing_input)))
    def probe(batch: list[Input]) -> None:
        live.check(batch)

    start, declared = live.sent, len(live.h.double.calls_to("conversations.create"))
    probe()
    assert live.sent - start >= SIGNING_EXAMPLES
    assert len(live.h.double.calls_to("conversations.create")) == declared
