"""The edit service (``ls.edits``): every change ren-lsp makes to the user's text goes here.

- ``replace``: put a feature's result in place of a tracked range of a document, guarded: the
  range follows the user's typing, a change in or around it is a conflict (nothing forced),
  the edit is versioned where the client supports it, and the document is held until the
  editor reports the applied edit (so a second edit is placed by fresh positions);
- ``apply``: one ``workspace/applyEdit`` of several files (created files too), versioned;
- ``write_file``: the disk path multi-step work needs: an atomic write, and for a file open in
  the editor the same versioned edit of its buffer; refused when the buffer has unsaved
  changes or the file changed since it was read.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from ren_lsp.lsp.rpc import Abandoned, EditorGone, EditorTimeout
from ren_lsp.text import TrackedRange, end_position, offset_at

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server

log = logging.getLogger(__name__)

#: seconds to wait for the didChange an applied edit causes (Neovim sends it 150 ms late)
SETTLE_TIMEOUT = 1.0


class Outcome(enum.Enum):
    APPLIED = "applied"
    #: the user changed the text meanwhile: nothing was forced
    CONFLICT = "conflict"
    #: the editor (or the file system) would not take it
    REFUSED = "refused"


@attrs.frozen
class EditResult:
    outcome: Outcome
    reason: str = ""

    @property
    def applied(self) -> bool:
        return self.outcome is Outcome.APPLIED


@attrs.frozen
class FileEdit:
    """Edits of one file for ``apply``; ``create`` makes the file first (it must not exist)."""

    uri: str
    edits: tuple[types.TextEdit, ...]
    create: bool = False


class EditService:
    """Tracked ranges, guarded edits, multi-file edits and disk writes of one server."""

    def __init__(self, ls: Server) -> None:
        self.ls = ls
        self._locks: dict[str, asyncio.Lock] = {}
        self._tracked: dict[str, list[TrackedRange]] = {}
        self._change_waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._own_edits: set[str] = set()
        #: the tasks inside replace/write_file (a held session there can still be cancelled)
        self._editing: set[asyncio.Task[None]] = set()

    # -- ranges the user may edit while a session works on them ---------------------------

    def track(self, uri: str, rng: types.Range) -> TrackedRange:
        tracked = TrackedRange(uri, rng)
        self._tracked.setdefault(uri, []).append(tracked)
        return tracked

    def untrack(self, tracked: TrackedRange) -> None:
        ranges = self._tracked.get(tracked.uri, [])
        if tracked in ranges:
            ranges.remove(tracked)

    def on_did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        for waiter in self._change_waiters.pop(uri, []):
            if not waiter.done():
                waiter.set_result(None)
        if uri in self._own_edits:
            self._own_edits.discard(uri)
            return
        for tracked in self._tracked.get(uri, []):
            for change in params.content_changes:
                if isinstance(change, types.TextDocumentContentChangePartial):
                    tracked.on_change(change.range, change.text)
                else:
                    tracked.on_change(None, change.text)

    def current_text(self, uri: str, rng: types.Range) -> str:
        """The document's text in a range, now."""
        source = self.ls.workspace.get_text_document(uri).source
        a = offset_at(source, rng.start.line, rng.start.character, self.ls.encoding)
        b = offset_at(source, rng.end.line, rng.end.character, self.ls.encoding)
        return source[a:b]

    # -- one guarded replacement --------------------------------------------------------------

    async def replace(self, tracked: TrackedRange, *, expected: str, new_text: str,
                      insert: bool = False, label: str | None = None) -> EditResult:
        """Replace the tracked range (or insert at its end) with ``new_text`` in one versioned
        edit, if it still holds ``expected`` and the user did not touch it meanwhile."""
        uri = tracked.uri
        self.untrack(tracked)
        async with self._document(uri):
            if tracked.conflict or self.current_text(uri, tracked.range) != expected:
                return EditResult(Outcome.CONFLICT, "the text changed meanwhile")
            rng = tracked.range
            if insert:  # at the anchor's end: the start of the line after it
                rng = types.Range(start=rng.end, end=rng.end)
            version = self.ls.workspace.get_text_document(uri).version
            self._own_edit(uri, rng, new_text)
            try:
                result = await self._apply_text(
                    uri, version, [types.TextEdit(range=rng, new_text=new_text)], label=label)
            except BaseException:  # cancelled: the user's next change must count again
                self._own_edits.discard(uri)
                raise
            if result.applied:  # hold the document until the editor tells us what it holds
                await self._settled(uri, version)
            else:
                self._own_edits.discard(uri)
        return result

    def _own_edit(self, uri: str, rng: types.Range, new_text: str) -> None:
        """We are about to edit ``uri``: the other ranges tracked there follow our edit exactly,
        and the editor's next report of a change (our edit, as it diffed it: often coarser,
        which would put ranges near ours in conflict for nothing) is not applied to them."""
        for other in self._tracked.get(uri, []):
            other.on_change(rng, new_text)
        self._own_edits.add(uri)

    async def _settled(self, uri: str, version: int | None) -> None:
        """Wait until the editor reports a change to ``uri`` after ``version`` (our own edit).

        Editors answer applyEdit before they send the didChange it causes (Neovim holds it
        back 150 ms): until it arrives, our view of the document is stale, and another
        session's edit would be placed by stale positions.
        """
        doc = self.ls.workspace.text_documents.get(uri)
        if doc is None or version is None or doc.version != version:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._change_waiters.setdefault(uri, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, SETTLE_TIMEOUT)
        except TimeoutError:
            log.info("no didChange for %s within %.1f s of an applied edit", uri,
                     SETTLE_TIMEOUT)

    def _lock(self, uri: str) -> asyncio.Lock:
        """Held while editing a document, so two sessions never interleave edits on it."""
        return self._locks.setdefault(uri, asyncio.Lock())

    # -- workspace/applyEdit ------------------------------------------------------------------

    def _versioned(self) -> bool:
        caps = self.ls.client_capabilities.workspace
        return bool(caps and caps.workspace_edit and caps.workspace_edit.document_changes)

    def _creates(self) -> bool:
        caps = self.ls.client_capabilities.workspace
        kinds = (caps.workspace_edit.resource_operations or []) if caps and caps.workspace_edit \
            else []
        return self._versioned() and types.ResourceOperationKind.Create in kinds

    async def apply_text_edits(self, uri: str, version: int | None,
                               edits: list[types.TextEdit], *, label: str | None = None) -> bool:
        """Ask the editor to apply ``edits`` to one document; True if it did."""
        return (await self._apply_text(uri, version, edits, label=label)).applied

    async def _apply_text(self, uri: str, version: int | None, edits: list[types.TextEdit],
                          *, label: str | None = None) -> EditResult:
        """``apply_text_edits`` with the reason when not applied.

        Versioned ``documentChanges`` where the client supports them (the editor then refuses
        if the document moved on), else plain ``changes`` (Neovim 0.10).
        """
        if self._versioned():
            edit = types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri,
                                                                            version=version),
                edits=list(edits))])
        else:
            edit = types.WorkspaceEdit(changes={uri: list(edits)})
        return await self._send(edit, label, uri)

    async def apply(self, files: list[FileEdit], *, label: str | None = None) -> EditResult:
        """Several files in one ``workspace/applyEdit`` (one undo step where the editor can),
        each open document at its current version; created files need resource operations."""
        if any(f.create for f in files) and not self._creates():
            return EditResult(Outcome.REFUSED, "the editor cannot create files through LSP")
        if not self._versioned():
            if any(f.create for f in files):
                return EditResult(Outcome.REFUSED, "the editor cannot create files through LSP")
            edit = types.WorkspaceEdit(changes={f.uri: list(f.edits) for f in files})
        else:
            changes: list[types.TextDocumentEdit | types.CreateFile] = []
            for f in files:
                version = None
                if f.create:
                    changes.append(types.CreateFile(uri=f.uri, options=types.CreateFileOptions(
                        overwrite=False, ignore_if_exists=False)))
                else:
                    doc = self.ls.workspace.text_documents.get(f.uri)
                    version = doc.version if doc is not None else None
                changes.append(types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=f.uri, version=version), edits=list(f.edits)))
            edit = types.WorkspaceEdit(document_changes=changes)
        return await self._send(edit, label, ", ".join(f.uri for f in files))

    async def _send(self, edit: types.WorkspaceEdit, label: str | None,
                    what: str) -> EditResult:
        """One ``workspace/applyEdit``; its outcome, with the reason when not applied (the
        protocol bounds the wait, and fails it when the session is cancelled meanwhile)."""
        # Shielded: a cancelled session must not cancel a request the editor will answer.
        request = asyncio.ensure_future(self.ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label)))
        try:
            result = await asyncio.shield(request)
        except (EditorTimeout, Abandoned, EditorGone) as exc:
            log.info("an edit of %s not applied: %s", what, exc.message)
            return EditResult(Outcome.REFUSED, exc.message)
        except JsonRpcException as exc:  # an error answer: the editor's refusal
            log.info("the editor refused an edit of %s: %s", what, exc.message)
            return EditResult(Outcome.REFUSED, f"the editor refused the edit: {exc.message}")
        if not result.applied:
            log.info("the editor did not apply an edit of %s: %s", what, result.failure_reason)
            why = f": {result.failure_reason}" if result.failure_reason else ""
            return EditResult(Outcome.REFUSED, f"the editor did not apply it{why}")
        return EditResult(Outcome.APPLIED)

    def editing(self, task: asyncio.Task[None] | None) -> bool:
        """Whether ``task`` is editing a document (or waiting for one another edit holds)."""
        return task is not None and task in self._editing

    @contextlib.asynccontextmanager
    async def _document(self, uri: str) -> AsyncIterator[None]:
        """Hold a document's lock; meanwhile the session editing it counts as ``editing``."""
        task = asyncio.current_task()
        if task is not None:
            self._editing.add(task)
        try:
            async with self._lock(uri):
                yield
        finally:
            if task is not None:
                self._editing.discard(task)

    # -- the disk path --------------------------------------------------------------------

    async def write_file(self, path: Path, text: str, *, read_as: str | None,
                         label: str | None = None) -> EditResult:
        """Write ``text`` to ``path`` (atomically), and to its buffer when it is open.

        ``read_as`` is the file's text when the writer read it (None: a new file, which must
        not exist). Refused when the file changed since, or its buffer has unsaved changes.
        """
        uri = path.as_uri()
        async with self._document(uri):
            try:
                on_disk: str | None = await asyncio.to_thread(path.read_text, encoding="utf-8")
            except FileNotFoundError:
                on_disk = None
            except (OSError, UnicodeDecodeError) as exc:
                return EditResult(Outcome.REFUSED, f"it cannot be read ({exc})")
            doc = self.ls.workspace.text_documents.get(uri)
            if doc is not None and on_disk is not None and doc.source != on_disk:
                return EditResult(Outcome.CONFLICT, "its buffer in the editor has unsaved changes")
            if read_as is None and on_disk is not None:
                return EditResult(Outcome.CONFLICT, "it exists already")
            if read_as is not None and on_disk != read_as:
                return EditResult(Outcome.CONFLICT, "it changed on disk since it was read")
            if doc is not None:
                end = end_position(doc.source, self.ls.encoding)
                whole = types.Range(start=types.Position(line=0, character=0),
                                    end=types.Position(line=end[0], character=end[1]))
                self._own_edit(uri, whole, text)
                version = doc.version
                try:
                    result = await self._apply_text(
                        uri, version, [types.TextEdit(range=whole, new_text=text)], label=label)
                except BaseException:
                    self._own_edits.discard(uri)
                    raise
                if not result.applied:
                    self._own_edits.discard(uri)
                    return result
                await self._settled(uri, version)
            try:
                await asyncio.to_thread(atomic_write, path, text)
            except OSError as exc:
                return EditResult(Outcome.REFUSED, f"it cannot be written ({exc.strerror})")
        return EditResult(Outcome.APPLIED)


def atomic_write(path: Path, text: str) -> None:
    """Write a file so that a reader sees the old text or the new, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".ren-tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise

