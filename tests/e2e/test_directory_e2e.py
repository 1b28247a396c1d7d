"""The customer directory: loading it from CSV, showing and editing a customer, and adding
a customer to an incident by a name the directory knows."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.customers.directory import Directory
from messages import ids
from messages.ids import DeclareFields, DirectoryFields
from storage.db import migrate
from storage.directory import DirectoryStore
from tests.support.customer_helpers import declare_with, opened_view, stored_customers
from tests.support.directory_helpers import HEADER, load_directory
from tests.support.harness import ALICE, TEAM, Harness
from tests.support.helpers import said

ACME = "Acme,premium,cs,C0ACMESHARED,ops@acme.example,Jana Nováková\n"


async def directory(engine: AsyncEngine) -> Directory:
    await migrate(engine)
    tiers = {"premium": timedelta(minutes=15), "standard": timedelta(hours=1)}
    return Directory(DirectoryStore(engine), tiers)


async def test_importing_a_file_creates_customers_and_importing_again_updates_them(
    engine: AsyncEngine,
) -> None:
    d = await directory(engine)
    first = await d.import_csv(
        TEAM, HEADER + ACME + "Globex,standard,en,,a@globex.example b@globex.example,\n"
    )
    second = await d.import_csv(TEAM, HEADER + "ACME,standard,en,C0ACMESHARED,,\n")
    acme = await d.store.find(TEAM, "acme")
    assert (first.created, first.updated) == (2, 0)
    assert (second.created, second.updated) == (0, 1)
    assert acme is not None and (acme.name, acme.tier, acme.emails) == ("ACME", "standard", "")


def run_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> int:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'amends.db'}")
    monkeypatch.delenv("CUSTOMER_TIERS", raising=False)
    path = tmp_path / "customers.csv"
    path.write_text(text, encoding="utf-8")
    return main(["customers", "import", str(path), "--team", TEAM])


def test_the_import_command_says_how_many_were_new_and_updated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_import(tmp_path, monkeypatch, HEADER + ACME) == 0
    assert run_import(tmp_path, monkeypatch, HEADER + ACME) == 0
    out = capsys.readouterr().out
    assert "Imported 1 customers: 1 new, 0 updated." in out
    assert "Imported 1 customers: 0 new, 1 updated." in out


def test_a_file_with_the_wrong_header_exits_1_naming_line_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_import(tmp_path, monkeypatch, "name,tier,email\nAcme,premium,a@b.c\n") == 1
    assert "line 1: the header must be name,tier,language,slack_channel,email,contact" in (
        capsys.readouterr().err
    )


def test_a_bad_row_exits_1_naming_its_line_and_imports_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = HEADER + ACME + "Globex,gold,en,,x@globex.example,\n"
    assert run_import(tmp_path, monkeypatch, bad) == 1
    assert "line 3: tier “gold” is not one of premium, standard" in capsys.readouterr().err
    assert run_import(tmp_path, monkeypatch, HEADER + ACME) == 0
    assert "1 new" in capsys.readouterr().out


async def test_incident_customer_shows_the_customer_in_a_form(harness: Harness) -> None:
    h = harness
    await load_directory(h, ACME)
    await h.driver.command("/incident", "customer acme", user_id=ALICE, channel_id=h.general)
    await h.double.wait_for(lambda: h.double.ok_calls_to("views.open"))
    form = json.dumps(opened_view(h, ids.DIRECTORY_CALLBACK_ID), ensure_ascii=False)
    assert "Acme" in form and "ops@acme.example" in form and "C0ACMESHARED" in form


async def test_incident_customer_with_an_unknown_name_suggests_the_closest(
    harness: Harness,
) -> None:
    h = harness
    await load_directory(h, ACME)
    reply = await h.driver.command(
        "/incident", "customer Acmee", user_id=ALICE, channel_id=h.general
    )
    assert "Did you mean “Acme”?" in await said(h, reply)


async def test_saving_the_customer_form_updates_the_directory(harness: Harness) -> None:
    h = harness
    await load_directory(h, ACME)
    await h.driver.command("/incident", "customer Acme", user_id=ALICE, channel_id=h.general)
    await h.double.wait_for(lambda: h.double.ok_calls_to("views.open"))
    form = opened_view(h, ids.DIRECTORY_CALLBACK_ID)
    f = DirectoryFields
    reply = await h.driver.submit_view(
        str(form["id"]),
        {f.TIER: {f.TIER: "standard"}, f.EMAILS: {f.EMAILS: "new@acme.example"}},
        user_id=ALICE,
    )
    acme = await h.runtime.services.directory.store.find(TEAM, "Acme")
    assert reply.json and reply.json["response_action"] == "update"
    assert acme is not None and (acme.tier, acme.emails) == ("standard", "new@acme.example")


async def test_the_customer_form_refuses_an_unknown_tier_inside_the_form(harness: Harness) -> None:
    h = harness
    await load_directory(h, ACME)
    await h.driver.command("/incident", "customer Acme", user_id=ALICE, channel_id=h.general)
    await h.double.wait_for(lambda: h.double.ok_calls_to("views.open"))
    form = opened_view(h, ids.DIRECTORY_CALLBACK_ID)
    f = DirectoryFields
    reply = await h.driver.submit_view(str(form["id"]), {f.TIER: {f.TIER: "gold"}}, user_id=ALICE)
    assert reply.json and "is not one of premium, standard" in reply.json["errors"][f.TIER]


async def test_adding_a_directory_name_in_any_case_links_the_directory_entry(
    harness: Harness,
) -> None:
    h = harness
    await load_directory(h, ACME)
    await declare_with(h, "acme, Unknown Ltd")
    acme = await h.runtime.services.directory.store.find(TEAM, "Acme")
    linked = {c.name: c.directory_id for c in await stored_customers(h)}
    assert acme is not None and linked == {"acme": acme.id, "Unknown Ltd": None}


async def test_a_customer_named_in_the_declare_form_is_linked_too(harness: Harness) -> None:
    h = harness
    await load_directory(h, ACME)
    await h.driver.command("/incident", "", user_id=ALICE, channel_id=h.general)
    opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open"))
    view = h.double.views[opened[0].response["view"]["id"]]
    f = DeclareFields
    values = {
        f.TITLE_BLOCK: {f.TITLE_ACTION: "Checkout down"},
        f.CUSTOMERS_BLOCK: {f.CUSTOMERS_ACTION: "ACME"},
    }
    await h.driver.submit_view(str(view["id"]), values, user_id=ALICE)
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    acme = await h.runtime.services.directory.store.find(TEAM, "Acme")
    assert acme is not None and [c.directory_id for c in await stored_customers(h)] == [acme.id]
