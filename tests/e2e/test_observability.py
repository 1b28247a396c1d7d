"""/healthz, /metrics and the structured request log, driven through the real app."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.runtime.process
from bot.observability.health import SweepRecord
from bot.observability.logs import (
    SLACK_SDK_LOGGERS,
    JsonFormatter,
    Redactor,
    TextFormatter,
    configure,
)
from bot.observability.metrics import LATE_SECONDS
from bot.runtime.serve import serve
from bot.sandbox.double.server import SlackDouble
from bot.settings import Settings
from messages import ids
from storage.models import Reminder, utcnow
from storage.reminders import CUSTOMER_UPDATE, FOLLOW_UP
from tests.e2e.test_db_outage import Proxied
from tests.e2e.test_db_outage import (
    proxied as proxied,  # the fixture: PostgreSQL behind a cuttable proxy
)
from tests.e2e.test_socket_mode import APP_TOKEN, settle, slash_command
from tests.support.customer_helpers import close_values, declare_with, opened_view
from tests.support.harness import (
    ALICE,
    BOB,
    SIGNING_SECRET,
    TEAM,
    Harness,
    make_settings,
    start_harness,
    stop_harness,
)
from tests.support.helpers import created_channel

FAST = {
    "customer_update_cadence": "SEV1=1s,SEV2=3s,SEV3=6s",
    "reminder_grace": "30s",
    "reminder_sweep_seconds": 0.5,
}


@pytest.fixture
async def fast(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, **FAST)
    yield h
    await stop_harness(h)


async def get(h: Harness | bot.runtime.process.Runtime, path: str) -> tuple[int, str]:
    port = h.port if isinstance(h, bot.runtime.process.Runtime) else h.runtime.port
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in exposition.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', metric))
        if metric.split("{")[0] == name and found == labels:
            return float(value)
    return 0.0


async def declare(h: Harness, severity: str = "SEV2") -> str:
    await h.driver.command(
        "/incident", f"declare Checkout down {severity}", user_id=ALICE, channel_id=h.general
    )
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    channel = str(created_channel(h)["id"])
    await h.driver.command("/incident", f"severity {severity}", user_id=ALICE, channel_id=channel)
    return channel


async def test_healthz_says_ok_for_the_database_and_reminders(harness: Harness) -> None:
    status, body = await get(harness, "/healthz")
    assert status == 200
    assert json.loads(body) == {"ok": True, "database": "ok", "reminders": "ok"}


async def test_healthz_answers_503_when_reminders_are_stopped(harness: Harness) -> None:
    harness.runtime.services.engine.stop()
    status, body = await get(harness, "/healthz")
    assert status == 503 and json.loads(body)["reminders"] == "stopped"


async def rename_reminders_table(h: Harness, old: str, new: str) -> None:
    async with h.runtime.engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def health_when(h: Harness, wanted: Callable[[int, dict[str, Any]], bool]) -> dict[str, Any]:
    """Poll /healthz until its answer satisfies ``wanted``; the last answer."""
    answers: list[dict[str, Any]] = []

    async def check() -> bool:
        status, body = await get(h, "/healthz")
        answers.append({"status": status, **json.loads(body)})
        return wanted(status, answers[-1])

    deadline = asyncio.get_running_loop().time() + 10
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, answers[-3:]
        await asyncio.sleep(0.2)
    return answers[-1]


async def test_healthz_answers_503_in_plain_words_while_reminder_sweeps_keep_failing(
    fast: Harness,
) -> None:
    h = fast
    await rename_reminders_table(h, "reminders", "reminders_away")
    try:
        failing = await health_when(h, lambda status, _: status == 503)
    finally:
        await rename_reminders_table(h, "reminders_away", "reminders")
    assert failing["database"] == "ok" and failing["ok"] is False
    assert re.fullmatch(r"the last \d+ sweeps failed, the latest \d+ s ago", failing["reminders"])

    recovered = await health_when(h, lambda status, _: status == 200)
    assert recovered == {"status": 200, "ok": True, "database": "ok", "reminders": "ok"}


def test_healthz_words_for_sweeps_that_stopped_completing_or_failed_once() -> None:
    record = SweepRecord(started_at=0.0)
    assert record.problem(interval=30, now=89) == (True, "ok")
    assert record.problem(interval=30, now=95) == (False, "no sweep completed for 95 s")
    record.last_completed = 100.0
    assert record.problem(interval=0.5, now=159) == (True, "ok")
    assert record.problem(interval=0.5, now=400) == (False, "no sweep completed for 5 min")
    record.failed()
    record.last_failed = 390.0
    assert record.problem(interval=30, now=150) == (True, "ok, but the last sweep failed 0 s ago")


async def test_healthz_says_the_database_is_not_answering_without_naming_exceptions(
    proxied: Proxied,
) -> None:
    h = await start_harness(proxied.engine)
    try:
        await proxied.proxy.cut()
        status, body = await get(h, "/healthz")
        await proxied.proxy.restore()
    finally:
        await stop_harness(h)
    assert status == 503 and json.loads(body)["database"] == "not answering"
    assert "Error" not in body and "Exception" not in body


async def test_metrics_count_requests_slack_calls_errors_reminders_and_incidents(
    fast: Harness,
) -> None:
    h = fast
    channel = await declare(h, "SEV1")
    h.double.fail_next("users.info", error="user_not_found")
    await h.driver.command("/incident", "role tech <@UNOBODY>", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: len(h.double.calls_to("users.info")) >= 1)
    await h.double.wait_for(lambda: h.runtime.services.engine.lateness, timeout=10)

    status, text = await get(h, "/metrics")
    assert status == 200
    assert sample(text, "amends_requests_total", kind="command", status="200") >= 3
    assert sample(text, "amends_ack_seconds_count") >= 3
    assert sample(text, "amends_slack_calls_total", method="conversations.create", outcome="ok")
    assert sample(text, "amends_slack_errors_total", method="users.info", error="user_not_found")
    assert sample(text, "amends_reminders_due_total") >= 1
    assert sample(text, "amends_reminders_sent_total") >= 1
    assert sample(text, "amends_reminders_late_total") == 0
    assert sample(text, "amends_open_incidents") == 1

    bad = await h.driver.post_raw(b"command=%2Fincident", {"X-Slack-Signature": "v0=bad"})
    assert bad.status == 401
    _, text = await get(h, "/metrics")
    assert sample(text, "amends_requests_total", kind="command", status="401") == 1


async def test_request_log_lines_carry_workspace_and_incident_and_no_secret(
    harness: Harness,
) -> None:
    h = harness
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(Redactor(h.runtime.settings.secrets)))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        channel = await declare(h)
        h.double.fail_next("chat.update", http_status=500, times=10)
        await h.driver.command("/incident", "status identified", user_id=ALICE, channel_id=channel)
        await h.double.wait_for(lambda: stream.getvalue().count('"amends.requests"') >= 3)
        logging.getLogger("amends.test").error("leak %s", h.runtime.settings.slack_bot_token)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    requests = [entry for entry in lines if entry["logger"] == "amends.requests"]
    assert {e["outcome"] for e in requests} >= {"ok", "refused", "ok+parked"}
    for entry in requests:
        assert entry["team"] == h.double.workspace().team_id and entry["incident"] == 1
        assert entry["user"] == ALICE and entry["kind"] == "/incident" and entry["ms"] >= 0
    output = stream.getvalue()
    assert h.runtime.settings.slack_bot_token not in output
    assert SIGNING_SECRET not in output
    assert "[redacted]" in output


def test_formatters_mask_tokens_by_shape_and_secrets_by_value() -> None:
    redact = Redactor(["s3cret-signing"])
    record = logging.LogRecord(
        "amends",
        logging.ERROR,
        __file__,
        1,
        "token %s secret %s",
        ("xoxb-123-abc", "s3cret-signing"),
        None,
    )
    record.__dict__["incident"] = 7
    for formatter in (TextFormatter(redact), JsonFormatter(redact)):
        line = formatter.format(record)
        assert "xoxb-123-abc" not in line and "s3cret-signing" not in line
        assert line.count("[redacted]") == 2 and "7" in line
    try:
        raise RuntimeError("Authorization: Bearer xapp-1-A0-secretpart")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    assert "secretpart" not in JsonFormatter(redact).format(record)


@dataclass
class SocketBot:
    double: SlackDouble
    runtime: bot.runtime.process.Runtime
    general: str


@pytest.fixture
async def socket_bot(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SocketBot]:
    """``amends serve`` in Socket Mode against the double, with its runtime at hand."""
    double = SlackDouble(team_id=TEAM, bot_token="xoxb-test", app_token=APP_TOKEN)
    await double.start()
    for user_id, name in ((ALICE, "alice"), (BOB, "bob")):
        double.add_user(user_id, name)
    general = double.add_channel("general", members=[ALICE, BOB])["id"]
    broadcast = double.add_channel("incidents", members=[ALICE], bot_member=True)["id"]
    monkeypatch.setattr(bot.runtime.process, "create_engine", lambda *_a, **_k: engine)
    started: list[bot.runtime.process.Runtime] = []
    real_start = bot.runtime.process.Runtime.start

    async def start(
        settings: Settings, engine: AsyncEngine | None = None
    ) -> bot.runtime.process.Runtime:
        started.append(await real_start(settings, engine))
        return started[-1]

    monkeypatch.setattr(bot.runtime.process.Runtime, "start", start)
    settings = make_settings(
        double.api_url, slack_app_token=APP_TOKEN, broadcast_channel=broadcast, port=0
    )
    task = asyncio.create_task(serve(settings))
    try:
        await double.socket.wait_connected(timeout=10)
        yield SocketBot(double, started[0], general)
    finally:
        await settle(double)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await double.stop()


async def test_socket_mode_requests_are_counted_with_their_ack_time(socket_bot: SocketBot) -> None:
    d = socket_bot.double
    command = slash_command(
        d, "declare Checkout is down", user_id=ALICE, channel_id=socket_bot.general
    )
    assert await d.deliver("slash_commands", command, timeout=3.0) is not None
    await d.wait_for(lambda: d.ok_calls_to("pins.add"))

    status, text = await get(socket_bot.runtime, "/metrics")
    assert status == 200
    assert sample(text, "amends_requests_total", kind="command", status="200") == 1
    assert sample(text, "amends_ack_seconds_count") == 1


FOLLOW_UP_FAST = {
    "customer_update_cadence": "SEV1=30m,SEV2=60m,SEV3=120m",
    "reminder_sweep_seconds": 0.5,
    "follow_up_reminder": "1s",
}


@pytest.fixture
async def following_up(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, **FOLLOW_UP_FAST)
    yield h
    await stop_harness(h)


@contextlib.contextmanager
def json_log(h: Harness) -> Iterator[io.StringIO]:
    """Everything logged at INFO and above meanwhile, as the bot's JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(Redactor(h.runtime.settings.secrets)))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def reminder_lines(stream: io.StringIO, kind: str) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [
        e
        for e in entries
        if e["logger"] == "bot.incidents.reminder_engine" and e.get("reminder") == kind
    ]


def delivered_lines(stream: io.StringIO, kind: str) -> list[dict[str, Any]]:
    """The reminder's lines other than those of a delivery put off for a retry."""
    return [e for e in reminder_lines(stream, kind) if e.get("outcome") != "retry"]


async def resolve_with_a_follow_up(h: Harness) -> str:
    """Resolve an incident with one customer waiting: its follow-up reminders begin."""
    channel = await declare_with(h, "Acme")
    await h.driver.command("/incident", "close", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: h.double.ok_calls_to("views.open"))
    form = opened_view(h, ids.CLOSE_CALLBACK_ID)
    await h.driver.submit_view(str(form["id"]), close_values(owner=BOB), user_id=ALICE)
    return channel


async def test_a_follow_up_reminder_is_counted_as_sent(following_up: Harness) -> None:
    h = following_up
    await resolve_with_a_follow_up(h)
    registry = h.runtime.metrics.registry
    await h.double.wait_for(
        lambda: (registry.get_sample_value("amends_reminders_sent_total") or 0) >= 1, timeout=10
    )
    posted = [c for c in h.double.ok_calls_to("chat.postMessage") if "follow-up" in str(c.args)]
    assert posted, "a follow-up reminder was posted"
    _, text = await get(h, "/metrics")
    assert sample(text, "amends_reminders_sent_total") >= 1


async def test_a_follow_up_reminder_log_line_has_its_user_outcome_and_duration(
    following_up: Harness,
) -> None:
    h = following_up
    with json_log(h) as stream:
        await resolve_with_a_follow_up(h)
        # One that falls due while the close's checklist is still being posted waits for
        # it: a "retry" line first, then the delivery's own.
        await h.double.wait_for(lambda: delivered_lines(stream, FOLLOW_UP), timeout=10)
    line = delivered_lines(stream, FOLLOW_UP)[0]
    assert line["team"] == h.double.workspace().team_id and line["incident"] == 1
    assert line["user"] == BOB and line["outcome"] == "sent"
    assert isinstance(line["ms"], float) and line["ms"] > 0


async def test_an_update_reminder_log_line_has_its_user_outcome_and_duration(fast: Harness) -> None:
    h = fast
    with json_log(h) as stream:
        await declare(h, "SEV1")
        await h.double.wait_for(lambda: delivered_lines(stream, CUSTOMER_UPDATE), timeout=10)
    line = delivered_lines(stream, CUSTOMER_UPDATE)[0]
    assert line["team"] == h.double.workspace().team_id and line["incident"] == 1
    assert line["user"] == ALICE and line["outcome"] == "sent"
    assert isinstance(line["ms"], float) and line["ms"] > 0


QUOTED_SECRET = 'se"cr\\et-signing'


def secret_forms(secret: str) -> set[str]:
    """The secret as written, JSON-escaped and as ``repr()`` shows it."""
    return {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]}


def test_json_logs_never_show_a_secret_with_quotes_or_backslashes_in_any_form() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    handler = configure("json", "INFO", [QUOTED_SECRET], stream)
    log = logging.getLogger("amends.test")
    try:
        log.warning("raw %s and repr %r", QUOTED_SECRET, QUOTED_SECRET)
        log.warning("a field", extra={"user": QUOTED_SECRET, "kind": [QUOTED_SECRET]})
        try:
            raise RuntimeError(f"signing with {QUOTED_SECRET!r} failed: {QUOTED_SECRET}")
        except RuntimeError:
            log.exception("in a traceback")
    finally:
        root.removeHandler(handler)
        for old in handlers:
            root.addHandler(old)
        root.setLevel(level)

    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 3 and all("[redacted]" in json.dumps(line) for line in lines)
    for form in secret_forms(QUOTED_SECRET):
        assert form not in output
        assert all(form not in json.dumps(line) for line in lines)
        assert all(form not in str(value) for line in lines for value in line.values())


async def test_a_reminder_delivered_over_a_minute_late_is_counted_late(
    following_up: Harness,
) -> None:
    h = following_up
    await declare_with(h)
    incident = await h.store.by_number(TEAM, 1)
    registry = h.runtime.metrics.registry
    assert await h.runtime.services.reminders.get(incident.id) is not None
    async with h.runtime.engine.begin() as connection:
        await connection.execute(
            update(Reminder)
            .where(Reminder.incident_id == incident.id, Reminder.kind == CUSTOMER_UPDATE)
            .values(due_at=utcnow() - timedelta(seconds=LATE_SECONDS + 60))
        )
    h.runtime.services.engine.wake_at(utcnow())
    await h.double.wait_for(
        lambda: registry.get_sample_value("amends_reminders_sent_total") == 1, timeout=10
    )
    _, text = await get(h, "/metrics")
    assert sample(text, "amends_reminders_late_total") == 1


@pytest.fixture
async def outbox_fast(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, outbox_retry_seconds=0.3)
    yield h
    await stop_harness(h)


async def metrics_until(h: Harness, name: str, wanted: float) -> float:
    """Poll /metrics until the sample ``name`` reads ``wanted``; its last value."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        _, text = await get(h, "/metrics")
        value = sample(text, name)
        if value == wanted or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.2)


async def test_the_outbox_gauge_shows_a_parked_call_until_slack_takes_it(
    outbox_fast: Harness,
) -> None:
    h = outbox_fast
    channel = await declare(h)
    assert await metrics_until(h, "amends_outbox_pending", 0) == 0
    h.double.fail_next("chat.update", http_status=500, times=10_000)
    await h.driver.command("/incident", "status identified", user_id=ALICE, channel_id=channel)
    assert await metrics_until(h, "amends_outbox_pending", 1) == 1

    h.double.recover()
    assert await metrics_until(h, "amends_outbox_pending", 0) == 0
    assert await h.runtime.services.updates.outbox.store.pending() == 0


class Watched(str):
    """A string that counts how often it is written out with ``repr`` (as a log line
    formatting a dict of call arguments does); sending it as JSON does not."""

    written_out = 0

    def __repr__(self) -> str:
        Watched.written_out += 1
        return super().__repr__()


@contextlib.contextmanager
def logging_configured(level: str) -> Iterator[None]:
    """``configure`` as ``amends serve`` runs it, undone afterwards (pytest's handlers back)."""
    root = logging.getLogger()
    handlers, root_level = list(root.handlers), root.level
    loggers = [logging.getLogger(name) for name in SLACK_SDK_LOGGERS]
    levels = [logger.level for logger in loggers]
    configure("text", level, [], stream=io.StringIO())
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(root_level)
        for logger, old in zip(loggers, levels, strict=True):
            logger.setLevel(old)


@pytest.mark.parametrize(("level", "written"), [("INFO", False), ("DEBUG", True)])
async def test_a_slack_call_writes_out_its_arguments_for_a_log_line_only_at_debug(
    level: str, written: bool
) -> None:
    double = SlackDouble(team_id=TEAM, bot_token="xoxb-test")
    await double.start()
    channel = double.add_channel("inc-1", bot_member=True)["id"]
    Watched.written_out = 0
    try:
        with logging_configured(level):
            async with aiohttp.ClientSession() as session:
                client = AsyncWebClient(token="xoxb-test", base_url=double.api_url, session=session)
                await client.chat_postMessage(channel=channel, text=Watched("All good"))
    finally:
        await double.stop()
    assert (Watched.written_out > 0) is written
