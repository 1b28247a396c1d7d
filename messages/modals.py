"""Modals: the declare form, and a small note for telling someone something in a modal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from messages.blocks import (
    PLACEHOLDER_MAX,
    Block,
    context,
    escape,
    option,
    plain,
    section,
    static_select,
    truncate,
)
from messages.ids import DECLARE_CALLBACK_ID, DeclareFields
from messages.limits import TITLE_MAX
from messages.playbooks import playbook_select

VIEW_TEXT_MAX = 24
METADATA_MAX = 3000
LABEL_MAX = 2000
INPUT_MAX = 3000


def declare_modal(
    *,
    severities: tuple[str, ...],
    default_severity: str = "SEV2",
    private_metadata: str = "",
    initial_title: str = "",
    playbooks: Sequence[str] = (),
    suggested_playbook: str | None = None,
) -> dict[str, Any]:
    """The declare form; ``private_metadata`` carries where it was opened (cut to 3,000).

    With ``playbooks``, an optional playbook menu follows the severity, with the playbook
    ``suggested_playbook`` (the one the title suggests) picked already and said so below
    it. Enter in the title then asks for a suggestion: the title input dispatches
    block_actions ``on_enter_pressed``. The form is rendered again with the same block and
    action ids, so Slack keeps whatever the person typed or picked."""
    f = DeclareFields
    severity_options = [option(s, s) for s in severities]
    initial = next((o for o in severity_options if o["value"] == default_severity), None)
    yes, no = option("Yes", f.IMPACT_YES), option("No / not known yet", f.IMPACT_NO)
    title_element: Block = {
        "type": "plain_text_input",
        "action_id": f.TITLE_ACTION,
        "max_length": TITLE_MAX,
        "placeholder": plain("e.g. Checkout fails for EU cards", PLACEHOLDER_MAX),
    }
    if initial_title:
        title_element["initial_value"] = truncate(initial_title, TITLE_MAX)
    if playbooks:
        title_element["dispatch_action_config"] = {"trigger_actions_on": ["on_enter_pressed"]}
    severity_element = static_select(
        f.SEVERITY_ACTION, "Pick a severity", severity_options, initial
    )
    playbook: list[Block] = []
    if playbooks:
        playbook = [
            input_block(
                f.PLAYBOOK_BLOCK,
                "Playbook",
                playbook_select(playbooks, suggested_playbook),
                optional=True,
                hint="Sets the severity, the update cadence, the steps and the customer "
                "message templates.",
            )
        ]
        if suggested_playbook:
            playbook.append(context(f"Suggested from the title: {escape(suggested_playbook)}"))
    return {
        "type": "modal",
        "callback_id": DECLARE_CALLBACK_ID,
        "title": plain("Declare incident", VIEW_TEXT_MAX),
        "submit": plain("Declare", VIEW_TEXT_MAX),
        "close": plain("Cancel", VIEW_TEXT_MAX),
        "private_metadata": private_metadata[:METADATA_MAX],
        "blocks": [
            input_block(
                f.TITLE_BLOCK,
                "Title",
                title_element,
                dispatch=bool(playbooks),
                hint="Press Enter to have a playbook suggested." if playbooks else None,
            ),
            input_block(f.SEVERITY_BLOCK, "Severity", severity_element),
            *playbook,
            input_block(
                f.DESCRIPTION_BLOCK,
                "What is broken?",
                multiline_input(f.DESCRIPTION_ACTION),
                optional=True,
            ),
            input_block(
                f.IMPACT_BLOCK,
                "Are customers affected?",
                {
                    "type": "radio_buttons",
                    "action_id": f.IMPACT_ACTION,
                    "options": [yes, no],
                    "initial_option": no,
                },
                optional=True,
            ),
            input_block(
                f.IMPACT_TEXT_BLOCK,
                "Customer impact",
                multiline_input(f.IMPACT_TEXT_ACTION),
                optional=True,
                hint="What customers notice, in plain words. The comms owner starts from this.",
            ),
            input_block(
                f.CUSTOMERS_BLOCK,
                "Affected customers",
                multiline_input(f.CUSTOMERS_ACTION),
                optional=True,
                hint="One per line or comma-separated (names or account ids).",
            ),
        ],
    }


def multiline_input(action_id: str) -> Block:
    return {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": True,
        "max_length": INPUT_MAX,
    }


def input_block(
    block_id: str,
    label: str,
    element: Block,
    *,
    optional: bool = False,
    hint: str | None = None,
    dispatch: bool = False,
) -> Block:
    """An input; with ``dispatch`` its element sends block_actions as it is used (when,
    its ``dispatch_action_config`` says) instead of only with the submitted form."""
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, LABEL_MAX),
        "element": element,
        "optional": optional,
    }
    if dispatch:
        block["dispatch_action"] = True
    if hint:
        block["hint"] = plain(hint, LABEL_MAX)
    return block


def error_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only tells the user something, e.g. after ``response_action=update``.

    ``text`` is mrkdwn written by Amends, not user input: escape user text before passing it.
    """
    return {
        "type": "modal",
        "title": plain(title, VIEW_TEXT_MAX),
        "close": plain("Close", VIEW_TEXT_MAX),
        "blocks": [section(text)],
    }
