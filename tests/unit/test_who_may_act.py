"""Who may close an incident and who may hand over its lead (``bot/incidents/policy.py``).

The rule: the incident lead, the comms owner (the comms holder, else the lead) and the
Amends admins (``ADMIN_USERS``) may close and may hand the lead to someone else; anyone
else is refused with the names of the people to ask. Any other role anyone may fill.
"""

from __future__ import annotations

import pytest

from bot.incidents.policy import CloseRefused, Status, check_may_assign, check_may_close

LEAD, COMMS, ADMIN, REPORTER, RESPONDER = "ULEAD", "UCOMMS", "UADMIN", "UREPORTER", "URESP"
ROLES: dict[str, str | None] = {"lead": LEAD, "comms": COMMS, "tech": RESPONDER, "scribe": None}
ADMINS = frozenset({ADMIN})


def may_close(user: str, roles: dict[str, str | None] = ROLES) -> bool:
    try:
        check_may_close(7, Status.MONITORING, roles, ADMINS, user)
    except CloseRefused:
        return False
    return True


def may_hand_over_the_lead(user: str, roles: dict[str, str | None] = ROLES) -> bool:
    try:
        check_may_assign(7, "lead", roles, ADMINS, user)
    except CloseRefused:
        return False
    return True


# -- who may close --------------------------------------------------------------------------


def test_the_lead_may_close() -> None:
    assert may_close(LEAD)


def test_the_comms_holder_may_close() -> None:
    assert may_close(COMMS)


def test_an_admin_may_close_without_holding_a_role() -> None:
    assert may_close(ADMIN)


def test_a_responder_in_another_role_may_not_close() -> None:
    assert not may_close(RESPONDER)


def test_the_reporter_alone_may_not_close() -> None:
    assert not may_close(REPORTER)


def test_a_refused_close_names_the_people_to_ask() -> None:
    with pytest.raises(CloseRefused) as refused:
        check_may_close(7, Status.IDENTIFIED, ROLES, ADMINS, RESPONDER)
    assert f"<@{LEAD}>" in str(refused.value) and f"<@{COMMS}>" in str(refused.value)


def test_a_lead_who_also_holds_comms_is_named_once_in_a_refusal() -> None:
    with pytest.raises(CloseRefused) as refused:
        check_may_close(7, Status.IDENTIFIED, {"lead": LEAD, "comms": LEAD}, ADMINS, RESPONDER)
    assert str(refused.value).count(f"<@{LEAD}>") == 1


def test_a_resolved_incident_is_not_closed_twice_even_by_its_lead() -> None:
    with pytest.raises(CloseRefused, match="already resolved"):
        check_may_close(7, Status.RESOLVED, ROLES, ADMINS, LEAD)


def test_closing_a_closed_incident_points_to_reopen() -> None:
    with pytest.raises(CloseRefused, match="/incident reopen"):
        check_may_close(7, Status.CLOSED, ROLES, ADMINS, LEAD)


# -- who may hand over the lead -------------------------------------------------------------


def test_the_lead_may_hand_over_the_lead() -> None:
    assert may_hand_over_the_lead(LEAD)


def test_the_comms_holder_may_hand_over_the_lead() -> None:
    assert may_hand_over_the_lead(COMMS)


def test_an_admin_may_hand_over_the_lead() -> None:
    assert may_hand_over_the_lead(ADMIN)


def test_a_responder_may_not_take_the_lead() -> None:
    assert not may_hand_over_the_lead(RESPONDER)


@pytest.mark.parametrize("role", ["comms", "tech", "scribe"])
def test_anyone_taking_part_may_fill_a_role_other_than_lead(role: str) -> None:
    check_may_assign(7, role, ROLES, ADMINS, RESPONDER)
