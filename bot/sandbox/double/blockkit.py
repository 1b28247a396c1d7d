"""Block Kit rules from Slack's reference, checked on every message and view the double gets.

slack-sdk's model classes check some per-element limits when serialised, but not the
per-surface counts, uniqueness of ids, where each element may go, nor plain-dict blocks;
this checks those and then asks slack-sdk too. Problems are human-readable strings.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

SURFACE_MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
ID_MAX = 255
METADATA_MAX = 3000
VIEW_TEXT_MAX = 24
PLACEHOLDER_MAX = 150

_SELECTS = {"static", "external", "users", "conversations", "channels"}
SELECTS = {f"{kind}_select" for kind in _SELECTS} | {f"multi_{kind}_select" for kind in _SELECTS}
PICKERS = {"datepicker", "timepicker", "datetimepicker"}
CHOICES = {"checkboxes", "radio_buttons"}
TEXT_INPUTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
# Where each element may go, from each element's "works with" list in Slack's reference.
ACTIONS_ELEMENTS = (
    SELECTS | PICKERS | CHOICES | {"button", "overflow", "plain_text_input", "workflow_button"}
)
ACCESSORY_ELEMENTS = (ACTIONS_ELEMENTS - {"datetimepicker", "plain_text_input"}) | {"image"}
INPUT_ELEMENTS = SELECTS | PICKERS | CHOICES | TEXT_INPUTS | {"rich_text_input", "file_input"}
ELEMENT_TYPES = ACTIONS_ELEMENTS | ACCESSORY_ELEMENTS | INPUT_ELEMENTS
BLOCK_TYPES = {
    "actions",
    "context",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "video",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Problems = list[str]


class _Ids:
    """block_id and action_id values already used on the surface (they must be unique)."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = {"block_id": set(), "action_id": set()}

    def check(self, item: dict[str, Any], key: str, where: str) -> Problems:
        value = item.get(key)
        if value is None:
            return []
        if not isinstance(value, str) or not 1 <= len(value) <= ID_MAX:
            return [f"{where}.{key} must be 1-{ID_MAX} characters"]
        if value in self.seen[key]:
            return [f"{where}.{key} {value!r} is not unique"]
        self.seen[key].add(value)
        return []


def validate_blocks(blocks: Any, surface: str = "message") -> Problems:
    """Human-readable problems with ``blocks`` on ``surface``; empty when Slack would accept."""
    return _blocks(blocks, surface, _Ids())


def validate_view(view: Any) -> Problems:
    """Problems with a modal or Home tab view object; empty when Slack would accept it."""
    if not isinstance(view, dict):
        return ["view must be an object"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"view type {kind!r} must be modal or home"]
    problems = _blocks(view.get("blocks"), kind, _Ids())
    if kind == "modal":
        problems += _modal_texts(view)
    for key, limit in (("private_metadata", METADATA_MAX), ("callback_id", ID_MAX)):
        problems += _length(view.get(key), f"view.{key}", limit)
    problems += _length(view.get("external_id"), "view.external_id", ID_MAX)
    return problems


def _modal_texts(view: dict[str, Any]) -> Problems:
    problems: Problems = []
    if view.get("title") is None:
        problems.append("a modal needs a title")
    for key in ("title", "submit", "close"):
        if view.get(key) is not None:
            problems += _text(view[key], f"view.{key}", VIEW_TEXT_MAX, plain_only=True)
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        blocks = []
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if has_input and view.get("submit") is None:
        problems.append("a modal with input blocks needs a submit button")
    return problems


def _blocks(blocks: Any, surface: str, ids: _Ids) -> Problems:
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    problems: Problems = []
    limit = SURFACE_MAX_BLOCKS[surface]
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks; a {surface} takes at most {limit}")
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        if not isinstance(block, dict):
            problems.append(f"{where} is not an object")
            continue
        problems += ids.check(block, "block_id", where)
        problems += _block(block, where, ids)
        problems += _sdk_check(block, where)
    return problems


def _block(block: dict[str, Any], where: str, ids: _Ids) -> Problems:
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        return [f"{where}: unknown block type {kind!r}"]
    if kind == "header":
        return _text(block.get("text"), f"{where}.text", 150, plain_only=True)
    if kind == "section":
        return _section(block, where, ids)
    if kind == "context":
        return _context(block, where)
    if kind == "actions":
        return _actions(block, where, ids)
    if kind == "input":
        return input_block(block, where, ids)
    if kind == "image":
        return _image(block, where) + _optional_text(block, "title", where, 2000, plain=True)
    return []


def _section(block: dict[str, Any], where: str, ids: _Ids) -> Problems:
    problems: Problems = []
    if "text" not in block and "fields" not in block:
        problems.append(f"{where}: a section needs text or fields")
    problems += _optional_text(block, "text", where, 3000)
    fields = block.get("fields") or []
    if len(fields) > 10:
        problems.append(f"{where}: a section takes at most 10 fields, not {len(fields)}")
    for i, field in enumerate(fields):
        problems += _text(field, f"{where}.fields[{i}]", 2000)
    if "accessory" in block:
        problems += _placed(block["accessory"], f"{where}.accessory", ACCESSORY_ELEMENTS, ids)
    return problems


def _context(block: dict[str, Any], where: str) -> Problems:
    elements = block.get("elements") or []
    problems: Problems = []
    if not 1 <= len(elements) <= 10:
        problems.append(f"{where}: a context takes 1-10 elements, not {len(elements)}")
    for i, element in enumerate(elements):
        at = f"{where}.elements[{i}]"
        if isinstance(element, dict) and element.get("type") == "image":
            problems += _image(element, at)
        else:
            problems += _text(element, at, 3000)
    return problems


def _actions(block: dict[str, Any], where: str, ids: _Ids) -> Problems:
    elements = block.get("elements") or []
    problems: Problems = []
    if not 1 <= len(elements) <= 25:
        problems.append(f"{where}: an actions block takes 1-25 elements, not {len(elements)}")
    for i, element in enumerate(elements):
        problems += _placed(element, f"{where}.elements[{i}]", ACTIONS_ELEMENTS, ids)
    return problems


def input_block(block: dict[str, Any], where: str, ids: _Ids) -> Problems:
    problems = _text(block.get("label"), f"{where}.label", 2000, plain_only=True)
    problems += _optional_text(block, "hint", where, 2000, plain=True)
    if "element" not in block:
        return [*problems, f"{where}: an input block needs an element"]
    return problems + _placed(block["element"], f"{where}.element", INPUT_ELEMENTS, ids)


def _image(item: dict[str, Any], where: str) -> Problems:
    problems = _length(item.get("image_url"), f"{where}.image_url", 3000)
    if "image_url" not in item and "slack_file" not in item:
        problems.append(f"{where}: an image needs image_url or slack_file")
    alt = item.get("alt_text")
    if not isinstance(alt, str) or not 1 <= len(alt) <= 2000:
        problems.append(f"{where}.alt_text must be 1-2000 characters")
    return problems


def _placed(element: Any, where: str, allowed: set[str], ids: _Ids) -> Problems:
    """An element where it sits: known, allowed there, and valid itself."""
    if not isinstance(element, dict):
        return [f"{where} is not an object"]
    kind = element.get("type")
    if kind not in ELEMENT_TYPES:
        return [f"{where}: unknown element type {kind!r}"]
    if kind not in allowed:
        return [f"{where}: a {kind} cannot go here"]
    if kind == "image":
        return _image(element, where)
    return ids.check(element, "action_id", where) + _element(element, kind, where)


def _element(element: dict[str, Any], kind: str, where: str) -> Problems:
    problems = _optional_text(element, "placeholder", where, PLACEHOLDER_MAX, plain=True)
    if kind == "button":
        problems += _text(element.get("text"), f"{where}.text", 75, plain_only=True)
        problems += _length(element.get("value"), f"{where}.value", 2000)
        problems += _length(element.get("url"), f"{where}.url", 3000)
        if element.get("style") not in (None, "primary", "danger"):
            problems.append(f"{where}.style must be primary or danger")
    elif kind in ("static_select", "multi_static_select"):
        problems += _select_options(element, where)
    elif kind == "overflow":
        problems += _options(element, where, 2, 5, plain_only=True)
    elif kind in CHOICES:
        problems += _options(element, where, 1, 10, plain_only=False)
    elif kind == "plain_text_input":
        problems += _input_lengths(element, where) + _dispatch_config(element, where)
    elif kind == "datepicker" and not _DATE.fullmatch(
        str(element.get("initial_date", "2000-01-01"))
    ):
        problems.append(f"{where}.initial_date must be YYYY-MM-DD")
    if "confirm" in element:
        problems += _confirm(element["confirm"], f"{where}.confirm")
    return problems


def _input_lengths(element: dict[str, Any], where: str) -> Problems:
    problems: Problems = []
    for key in ("min_length", "max_length"):
        value = element.get(key)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
            problems.append(f"{where}.{key} must be a number from 0 to 3000")
    return problems


DISPATCH_TRIGGERS = frozenset({"on_enter_pressed", "on_character_entered"})
"""docs.slack.dev/reference/block-kit/composition-objects/dispatch-action-configuration-object"""


def _dispatch_config(element: dict[str, Any], where: str) -> Problems:
    config = element.get("dispatch_action_config")
    if config is None:
        return []
    triggers = config.get("trigger_actions_on") if isinstance(config, dict) else None
    if not isinstance(triggers, list) or not set(triggers) <= DISPATCH_TRIGGERS:
        allowed = " and/or ".join(sorted(DISPATCH_TRIGGERS))
        return [f"{where}.dispatch_action_config.trigger_actions_on must list {allowed}"]
    return []


def _select_options(element: dict[str, Any], where: str) -> Problems:
    if "option_groups" not in element:
        return _options(element, where, 1, 100, plain_only=True)
    groups = element.get("option_groups") or []
    problems = [] if 1 <= len(groups) <= 100 else [f"{where}: 1-100 option_groups"]
    for i, group in enumerate(groups):
        at = f"{where}.option_groups[{i}]"
        problems += _text(group.get("label"), f"{at}.label", 75, plain_only=True)
        problems += _options(group, at, 1, 100, plain_only=True)
    return problems


def _options(
    element: dict[str, Any], where: str, low: int, high: int, *, plain_only: bool
) -> Problems:
    options = element.get("options") or []
    problems: Problems = []
    if not low <= len(options) <= high:
        problems.append(f"{where}: takes {low}-{high} options, not {len(options)}")
    for i, option in enumerate(options):
        at = f"{where}.options[{i}]"
        if not isinstance(option, dict):
            problems.append(f"{at} is not an object")
            continue
        problems += _text(option.get("text"), f"{at}.text", 75, plain_only=plain_only)
        problems += _optional_text(option, "description", at, 75, plain=plain_only)
        value = option.get("value")
        if not isinstance(value, str) or not 1 <= len(value) <= 150:
            problems.append(f"{at}.value must be 1-150 characters")
    values = [o.get("value") for o in options if isinstance(o, dict)]
    initial = element.get("initial_option")
    if isinstance(initial, dict) and initial.get("value") not in values:
        problems.append(f"{where}.initial_option is not one of the options")
    return problems


def _confirm(confirm: Any, where: str) -> Problems:
    if not isinstance(confirm, dict):
        return [f"{where} is not an object"]
    problems = _text(confirm.get("title"), f"{where}.title", 100, plain_only=True)
    problems += _text(confirm.get("text"), f"{where}.text", 300)
    for key in ("confirm", "deny"):
        problems += _text(confirm.get(key), f"{where}.{key}", 30, plain_only=True)
    return problems


def _optional_text(
    item: dict[str, Any], key: str, where: str, limit: int, *, plain: bool = False
) -> Problems:
    if key not in item:
        return []
    return _text(item[key], f"{where}.{key}", limit, plain_only=plain)


def _text(obj: Any, where: str, limit: int, *, plain_only: bool = False) -> Problems:
    """A text object: the right type, 1 to ``limit`` characters."""
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return [f"{where} must be a text object"]
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    problems: Problems = []
    if obj.get("type") not in allowed:
        problems.append(f"{where} must be {' or '.join(allowed)}, not {obj.get('type')!r}")
    text = obj["text"]
    if not text:
        problems.append(f"{where} must not be empty")
    if len(text) > limit:
        problems.append(f"{where} is {len(text)} characters; the limit is {limit}")
    return problems


def _length(value: Any, where: str, limit: int) -> Problems:
    if value is not None and len(str(value)) > limit:
        return [f"{where} is {len(str(value))} characters; the limit is {limit}"]
    return []


def _sdk_check(block: dict[str, Any], where: str) -> Problems:
    """slack-sdk's own checks, run when it serialises its model of the block."""
    try:
        parsed = Block.parse(block)
        if parsed is not None:
            parsed.to_dict()
    except (SlackObjectFormationError, TypeError, KeyError, ValueError, AttributeError) as exc:
        return [f"{where}: slack-sdk: {exc}"]
    return []
