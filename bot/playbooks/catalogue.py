"""The playbooks this process was started with: found by what a person typed, suggested
by an incident title's words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.incidents.channel_names import slugify
from bot.incidents.errors import UserError
from bot.playbooks.loader import Loaded, load_configured
from bot.playbooks.model import Playbook
from bot.settings import Settings
from messages import refusals

_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def keyword_hits(playbook: Playbook, title: str) -> int:
    """How many of the playbook's keywords the title contains, each as whole words
    (``card`` matches "Card payments down", not "discard"; ``log in`` matches as a phrase)."""
    padded = f" {' '.join(_words(title))} "
    phrases = (" ".join(_words(keyword)) for keyword in playbook.keywords)
    return sum(1 for phrase in phrases if phrase and f" {phrase} " in padded)


def suggest(playbooks: Iterable[Playbook], title: str) -> Playbook | None:
    """The playbook whose keywords the title matches most; on a tie the first listed;
    none when no keyword matches."""
    best: Playbook | None = None
    best_hits = 0
    for playbook in playbooks:
        hits = keyword_hits(playbook, title)
        if hits > best_hits:
            best, best_hits = playbook, hits
    return best


@dataclass(frozen=True)
class Catalogue:
    """The loaded playbooks, in file order. ``own`` is False for the shipped examples
    (PLAYBOOKS_DIR unset): their owner is a placeholder nobody should be reminded as."""

    loaded: tuple[Loaded, ...] = ()
    own: bool = False

    @classmethod
    def configured(cls, settings: Settings) -> Catalogue:
        return cls(load_configured(settings), own=settings.playbooks_dir is not None)

    @classmethod
    def of(cls, playbooks: Iterable[Playbook]) -> Catalogue:
        """A catalogue of these playbooks (no files behind them: tests, rehearsals)."""
        return cls(tuple(Loaded("", playbook) for playbook in playbooks))

    @property
    def playbooks(self) -> tuple[Playbook, ...]:
        return tuple(loaded.playbook for loaded in self.loaded)

    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.playbooks)

    def get(self, name: str | None) -> Playbook | None:
        """The playbook called ``name``, ignoring case, spacing and punctuation
        (``card-payments-failing`` finds “Card payments failing”), if there is one."""
        wanted = slugify(name or "")
        if not wanted:
            return None
        return next((p for p in self.playbooks if slugify(p.name) == wanted), None)

    def find(self, text: str) -> Playbook:
        """The playbook named ``text``, or a refusal listing the names."""
        playbook = self.get(text)
        if playbook is None:
            raise UserError(refusals.unknown_playbook(text, list(self.names())))
        return playbook

    def suggest(self, title: str) -> Playbook | None:
        return suggest(self.playbooks, title)
