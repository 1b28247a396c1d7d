"""The playbooks a running Amends offers: found by name, suggested by a title's words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.playbooks.model import Playbook

_WORD = re.compile(r"\w+")


def name_key(name: str) -> str:
    """How names are compared: case and spacing do not matter (``card  PAYMENTS failing``)."""
    return " ".join(name.split()).casefold()


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
class Library:
    """The loaded playbooks, in file order."""

    playbooks: tuple[Playbook, ...] = ()

    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.playbooks)

    def find(self, name: str | None) -> Playbook | None:
        """The playbook called ``name`` (case and spacing ignored), if there is one."""
        if not name:
            return None
        key = name_key(name)
        return next((p for p in self.playbooks if name_key(p.name) == key), None)

    def suggest(self, title: str) -> Playbook | None:
        return suggest(self.playbooks, title)
