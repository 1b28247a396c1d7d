"""The repository stands on its own: a person who clones it has nothing beside it, so no
file in it may read from or point to anything outside the checkout."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()

# Each pattern names a way of reaching outside the checkout that has happened or would
# work only on a developer's machine.
OUTSIDE = {
    "the reference folder beside a developer's checkout": (
        r"\.\./shared\b|\bshared/slack\b|[\"']shared[\"']\s*/"
    ),
    "the development machine's folders": r"(?<![\w.~-])/work/",
    # /home/amends is the image's own user (Dockerfile), not someone's machine.
    "someone's home folder": r"(?<![\w.~-])/(?:Users|home)/(?!amends\b)[\w.-]+/",
}
if ROOT.parent != Path(ROOT.anchor):
    beside = rf"{re.escape(ROOT.parent.as_posix())}/(?!{re.escape(ROOT.name)}\b)"
    OUTSIDE["the folder this checkout sits in"] = beside
# Not the checkout's own files: what the tools make when they run.
GENERATED = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


def checked_in() -> list[str]:
    """The files the repository holds or is about to (git's tracked and not-ignored files),
    or the tree itself when this is an export with no git."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout.decode()
        return [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for top, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in GENERATED]
            kept = [name for name in names if name not in GENERATED]
            files += [(Path(top) / name).relative_to(ROOT).as_posix() for name in kept]
        return sorted(files)


def references_outside(text: str, name: str = "README.md") -> list[str]:
    """What in ``text`` (the content of the file ``name``) points outside the checkout."""
    found = [
        f"{why}: {match.group(0)!r}"
        for why, pattern in OUTSIDE.items()
        for match in re.finditer(pattern, text)
    ]
    depth = name.count("/")  # Path(__file__).parents[depth] is the checkout itself
    found += [
        f"climbs out of the checkout: {match.group(0)!r}"
        for match in re.finditer(r"\.parents\[(\d+)\]", text)
        if int(match.group(1)) > depth
    ]
    return found


def test_no_file_in_the_repository_points_outside_it() -> None:
    files = checked_in()
    assert "README.md" in files and THIS in files, "the list covers the whole checkout"
    found = []
    for name in files:
        path = ROOT / name
        if name == THIS or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found += [f"{name}: {problem}" for problem in references_outside(text, name)]
    assert not found, "\n".join(found)


def test_each_way_of_pointing_outside_is_recognised() -> None:
    beside = "sha" + "red"  # assembled, so that this file itself names nothing outside
    for text in (
        f"See [`../{beside}/DESIGN.md`](../{beside}/DESIGN.md)",
        f'Path(os.environ.get("X") or here / "{beside}" / "slack")',
        f"As published in {beside}/slack/methods/<method>.json",
        "/work/main/.venv/bin/pytest",
        "/home/dev/amends/tests",
        f"{ROOT.parent.as_posix()}/{beside}/slack",
    ):
        assert references_outside(text), text
    for text in ("WORKDIR /home/amends", "#!/usr/bin/env bash", "tests/slack_reference/methods"):
        assert references_outside(text) == [], text
    assert references_outside("Path(__file__).resolve().parents[2]", "tests/x.py")
    assert not references_outside("Path(__file__).resolve().parents[1]", "tests/x.py")
    assert not references_outside("Path(__file__).resolve().parents[2]", "bot/sandbox/x.py")


def test_every_link_in_the_documents_leads_to_a_file_of_the_repository() -> None:
    broken = []
    for name in (n for n in checked_in() if n.endswith(".md")):
        page = ROOT / name
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", page.read_text()):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue  # a web address, not a file
            resolved = (page.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{name}: {target}")
    assert not broken, broken
