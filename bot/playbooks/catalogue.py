"""The playbooks this process was started with, and finding one by what a person typed."""

from __future__ import annotations

from dataclasses import dataclass

from bot.incidents.channel_names import slugify
from bot.incidents.errors import UserError
from bot.playbooks.loader import Loaded, load_configured
from bot.playbooks.model import Playbook
from bot.settings import Settings
from messages import refusals


@dataclass(frozen=True)
class Catalogue:
    """The loaded playbooks, in file order. ``own`` is False for the shipped examples
    (PLAYBOOKS_DIR unset): their owner is a placeholder nobody should be reminded as."""

    loaded: tuple[Loaded, ...]
    own: bool

    @classmethod
    def configured(cls, settings: Settings) -> Catalogue:
        return cls(load_configured(settings), own=settings.playbooks_dir is not None)

    @property
    def playbooks(self) -> tuple[Playbook, ...]:
        return tuple(loaded.playbook for loaded in self.loaded)

    def find(self, text: str) -> Playbook:
        """The playbook named ``text``, ignoring case and punctuation (``card-payments-failing``
        finds “Card payments failing”), or a refusal listing the names."""
        wanted = slugify(text)
        for playbook in self.playbooks:
            if wanted and slugify(playbook.name) == wanted:
                return playbook
        raise UserError(refusals.unknown_playbook(text, [p.name for p in self.playbooks]))
