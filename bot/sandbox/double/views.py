"""views.open, views.push, views.update and views.publish of the double."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from bot.sandbox.double.args import Args, given, json_arg, text_arg
from bot.sandbox.double.blockkit import validate_view
from bot.sandbox.double.state import APP_ID, SlackError, Workspace, new_id

VIEW_MAX_BYTES = 250_000
PUSH_LIMIT = 3
"""Slack keeps at most three views on a modal's stack."""


def checked_view(args: Args, kind: str | None = None) -> dict[str, Any]:
    """The view argument, refused with ``invalid_arguments`` as Slack does when malformed."""
    view = json_arg(args, "view", "invalid_arguments")
    problems = validate_view(view)
    if not problems and kind is not None and view.get("type") != kind:
        problems = [f"view type must be {kind}"]
    if problems:
        raise SlackError("invalid_arguments", response_metadata={"messages": problems})
    if len(json.dumps(view)) > VIEW_MAX_BYTES:
        raise SlackError("view_too_large")
    return dict(view)


def _check_external_id(ws: Workspace, view: dict[str, Any], own_id: str | None) -> None:
    external = view.get("external_id")
    if external and any(
        v.get("external_id") == external and vid != own_id for vid, v in ws.views.items()
    ):
        raise SlackError("duplicate_external_id")


def store_view(
    ws: Workspace,
    view: dict[str, Any],
    view_id: str,
    *,
    root_view_id: str | None = None,
    previous_view_id: str | None = None,
    entered: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Keep ``view`` as Slack returns it (payloads/api_responses/views.open.success.json).

    ``state.values`` holds what the person has entered in its inputs (``entered``: kept
    from the view this one replaces); inputs they left alone are not in it."""
    stored = {
        "submit": None,
        "close": None,
        "private_metadata": "",
        "callback_id": "",
        "external_id": "",
        "clear_on_close": False,
        "notify_on_close": False,
        **view,
        "id": view_id,
        "team_id": ws.team_id,
        "state": {"values": dict(entered or {})},
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "previous_view_id": previous_view_id,
        "root_view_id": root_view_id or view_id,
        "app_id": APP_ID,
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
    }
    ws.views[view_id] = stored
    return {"view": json.loads(json.dumps(stored))}


def views_open(ws: Workspace, args: Args) -> dict[str, Any]:
    view = checked_view(args, "modal")
    _check_external_id(ws, view, None)
    trigger = ws.triggers.use(
        args.get("trigger_id") or args.get("interactivity_pointer"), ws.team_id
    )
    view_id = new_id("V")
    if trigger.user_id:
        ws.view_users[view_id] = trigger.user_id
    return store_view(ws, view, view_id)


def views_push(ws: Workspace, args: Args) -> dict[str, Any]:
    """Onto the stack of the modal the trigger came from, when it came from one."""
    view = checked_view(args, "modal")
    _check_external_id(ws, view, None)
    trigger = ws.triggers.use(
        args.get("trigger_id") or args.get("interactivity_pointer"), ws.team_id
    )
    root = previous = None
    if trigger.view_id is not None:
        parent = ws.views.get(trigger.view_id)
        if parent is None:
            raise SlackError("not_found")
        root, previous = parent["root_view_id"], parent["id"]
        if sum(1 for v in ws.views.values() if v["root_view_id"] == root) >= PUSH_LIMIT:
            raise SlackError("push_limit_reached")
    view_id = new_id("V")
    if trigger.user_id:
        ws.view_users[view_id] = trigger.user_id
    return store_view(ws, view, view_id, root_view_id=root, previous_view_id=previous)


def views_update(ws: Workspace, args: Args) -> dict[str, Any]:
    view = checked_view(args)
    current = _view_by_ref(ws, text_arg(args, "view_id"), text_arg(args, "external_id"))
    if given(args, "hash") and text_arg(args, "hash") != current["hash"]:
        raise SlackError("hash_conflict")
    _check_external_id(ws, view, current["id"])
    view.setdefault("external_id", current["external_id"])
    return store_view(
        ws,
        view,
        current["id"],
        root_view_id=current["root_view_id"],
        previous_view_id=current["previous_view_id"],
        entered=kept_entries(current["state"]["values"], view.get("blocks") or []),
    )


def kept_entries(entered: dict[str, Any], blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """What the person entered that survives a views.update: Slack keeps an input's entry
    when the new view has an input with the same ``block_id`` and ``action_id``
    (docs.slack.dev/reference/views/modal-views, "Preserving input entry in views"); any
    other entry is lost, and an input left alone shows the new view's initial value."""
    inputs = {
        b.get("block_id"): b["element"].get("action_id")
        for b in blocks
        if b.get("type") == "input" and isinstance(b.get("element"), dict)
    }
    return {
        block_id: {action_id: value}
        for block_id, by_action in entered.items()
        for action_id, value in by_action.items()
        if inputs.get(block_id) == action_id
    }


def enter_values(ws: Workspace, view_id: str, entered: dict[str, Any]) -> None:
    """The person entered these values (``state.values`` shape) in the view's inputs."""
    view = ws.views.get(view_id)
    if view is None:
        raise KeyError(f"the double has no view {view_id!r}")
    values = view["state"]["values"]
    for block_id, by_action in entered.items():
        values.setdefault(block_id, {}).update(by_action)


def _view_by_ref(ws: Workspace, view_id: str, external_id: str) -> dict[str, Any]:
    if view_id:
        found = ws.views.get(view_id)
    else:
        found = next(
            (v for v in ws.views.values() if external_id and v["external_id"] == external_id),
            None,
        )
    if found is None:
        raise SlackError("not_found")
    return found


def views_publish(ws: Workspace, args: Args) -> dict[str, Any]:
    """One Home tab per user, replaced on each publish."""
    view = checked_view(args, "home")
    user_id = text_arg(args, "user_id")
    if user_id not in ws.users:
        raise SlackError("invalid_arguments", response_metadata={"messages": ["invalid `user_id`"]})
    existing = next(
        (
            vid
            for vid, owner in ws.view_users.items()
            if owner == user_id and ws.views[vid]["type"] == "home"
        ),
        None,
    )
    if given(args, "hash") and existing and text_arg(args, "hash") != ws.views[existing]["hash"]:
        raise SlackError("hash_conflict")
    _check_external_id(ws, view, existing)
    view_id = existing or new_id("V")
    ws.view_users[view_id] = user_id
    return store_view(ws, view, view_id)
