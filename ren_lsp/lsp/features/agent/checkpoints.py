"""Checkpoints: every file an agent run changes, as it was before its first change, so
``ren.undo`` can put it back, except where the user changed it since.

Kept on disk (``<state dir>/checkpoints/<session>.json``), so undo works after a restart.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import attrs

log = logging.getLogger(__name__)


def checkpoint_dir() -> Path:
    from ren_lsp.lsp.output import state_dir

    return state_dir() / "checkpoints"


@attrs.define
class Entry:
    path: str  # the file, absolute
    #: the text before the run's first change (None: the run created the file)
    before: str | None
    #: the text the run left (what undo expects to find)
    after: str | None = None


@attrs.define
class Checkpoint:
    """The files one session changed."""

    session: str
    root: str
    entries: dict[str, Entry] = attrs.Factory(dict)

    def before_change(self, relative: str, target: Path, before: str | None) -> None:
        """Record a file's text before the run's first change of it (only the first)."""
        if relative not in self.entries:
            self.entries[relative] = Entry(str(target), before)

    def after_change(self, relative: str, text: str) -> None:
        self.entries[relative].after = text
        self.save()

    @property
    def changed(self) -> list[str]:
        return sorted(r for r, e in self.entries.items() if e.after is not None)

    def save(self) -> None:
        path = checkpoint_dir() / f"{self.session}.json"
        try:
            from ren_lsp.lsp.output import state_folder
            from ren_lsp.private import write_private

            state_folder("checkpoints")  # 0700, the file 0600: it holds the files' text
            write_private(path, json.dumps(attrs.asdict(self), ensure_ascii=False))
        except OSError as exc:  # undo then works within this server's life only
            log.warning("could not save the checkpoint of %s: %s", self.session, exc)

    @classmethod
    def load(cls, session: str) -> Checkpoint | None:
        path = checkpoint_dir() / f"{session}.json"
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        entries = {k: Entry(**v) for k, v in data.get("entries", {}).items()}
        return cls(session=data["session"], root=data["root"], entries=entries)
