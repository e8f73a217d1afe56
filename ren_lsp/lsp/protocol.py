"""What the server offers the parts built on it: a small protocol, so sessions, the edit
service and features type against it instead of importing the server (no import cycle)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from lsprotocol import types
    from pygls.workspace import Workspace

    from ren_lsp.config import Resolved, Settings
    from ren_lsp.logs import RedactingFilter
    from ren_lsp.lsp.edits import EditService
    from ren_lsp.lsp.indexing import Indexing
    from ren_lsp.lsp.sessions import SessionManager
    from ren_lsp.models.client import ModelClient


class Server(Protocol):
    """The parts of ``RenLanguageServer`` the rest of the LSP layer uses."""

    redactor: RedactingFilter | None
    #: the settings with their sources, problems and blocking errors
    resolved: Resolved
    sessions: SessionManager
    edits: EditService
    indexing: Indexing
    document_listeners: list[Callable[[str], None]]

    @property
    def settings(self) -> Settings: ...

    @property
    def encoding(self) -> str: ...

    @property
    def workspace(self) -> Workspace: ...

    @property
    def client_capabilities(self) -> types.ClientCapabilities: ...

    @property
    def work_done_progress(self) -> Any: ...

    def model(self, role: str = "default") -> ModelClient: ...

    def show_message(self, message: str, kind: types.MessageType) -> None: ...

    def abandon_requests(self, owner: str) -> bool: ...

    def forget_requests(self, owner: str) -> None: ...

    def command(self, name: str) -> Any: ...

    def feature(self, name: str, options: Any = None) -> Any: ...

    async def workspace_apply_edit_async(self, params: types.ApplyWorkspaceEditParams) -> Any: ...

    async def window_show_document_async(self, params: types.ShowDocumentParams) -> Any: ...

    async def window_show_message_request_async(
            self, params: types.ShowMessageRequestParams) -> Any: ...
