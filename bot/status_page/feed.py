"""The Atom feed (RFC 4287) and the JSON of the status page, built from the same records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from bot.status_page.render import iso
from bot.status_page.views import IncidentView

ATOM = "http://www.w3.org/2005/Atom"


def atom_feed(
    title: str, status_url: str, feed_url: str, incidents: Sequence[IncidentView], now: datetime
) -> bytes:
    """One entry per customer update, newest first; the feed's ``updated`` is the newest
    update's time (``now`` when there is none)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    entries = sorted(
        ((incident, update) for incident in incidents for update in incident.updates),
        key=lambda pair: pair[1].posted_at,
        reverse=True,
    )
    _text(feed, "id", status_url)
    _text(feed, "title", title)
    _text(feed, "updated", iso(entries[0][1].posted_at if entries else now))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", title)
    _link(feed, feed_url, "self", "application/atom+xml")
    _link(feed, status_url, "alternate", "text/html")
    for incident, update in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        kind = "Resolved" if update.final else f"Update ({incident.status_label})"
        _text(entry, "id", f"{incident.url}#update-{update.number}")
        _text(entry, "title", f"{incident.title}: {kind}")
        _text(entry, "updated", iso(update.posted_at))
        _link(entry, f"{incident.url}#update-{update.number}", "alternate", "text/html")
        content = _text(entry, "content", update.text)
        content.set("type", "text")
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    element.text = text
    return element


def _link(parent: ET.Element, href: str, rel: str, kind: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", {"href": href, "rel": rel, "type": kind})


def status_json(title: str, status_url: str, incidents: Sequence[IncidentView]) -> dict[str, Any]:
    return {
        "title": title,
        "url": status_url,
        "incidents": [
            {
                "id": i.public_id,
                "title": i.title,
                "url": i.url,
                "status": i.status_label.lower(),
                "started_at": iso(i.started_at),
                "resolved_at": iso(i.resolved_at) if i.resolved_at else None,
                "next_update_by": iso(i.next_update_due) if i.next_update_due else None,
                "updates": [
                    {"posted_at": iso(u.posted_at), "text": u.text, "final": u.final}
                    for u in i.updates
                ],
            }
            for i in incidents
        ],
    }
