"""Playlists saved to and loaded from a JSON file, so the demo finds (and updates) the same
playlists run after run."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sandbox.records import SandboxPlaylist


def save_playlists(playlists: list[SandboxPlaylist], path: Path) -> None:
    data = [
        {
            "id": p.id,
            "owner_id": p.owner_id,
            "name": p.name,
            "description": p.description,
            "public": p.public,
            "items": [[uri, at.isoformat()] for uri, at in p.items],
            "followers": sorted(p.followers),
            "snapshot": p.snapshot,
            "collaborative": p.collaborative,
            "collaborators": sorted(p.collaborators),
        }
        for p in playlists
    ]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"playlists": data}))
    tmp.replace(path)


def load_playlists(path: Path) -> list[SandboxPlaylist]:
    if not path.exists():
        return []
    try:
        return [
            SandboxPlaylist(
                id=p["id"],
                owner_id=p["owner_id"],
                name=p["name"],
                description=p["description"],
                public=p["public"],
                items=[(uri, datetime.fromisoformat(at)) for uri, at in p["items"]],
                followers=set(p["followers"]),
                snapshot=p.get("snapshot", 1),
                collaborative=p.get("collaborative", False),
                collaborators=set(p.get("collaborators", [])),
            )
            for p in json.loads(path.read_text())["playlists"]
        ]
    except (ValueError, KeyError, TypeError):
        return []  # a damaged state file only costs the demo its old playlists
