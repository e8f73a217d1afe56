"""Pull requests' outside world: git (the real CLI), the remote's forge and its REST API.

Knows nothing of LSP: ``ren_lsp.lsp.features.pullrequest`` orders the steps and talks to the
user; this package runs git (``git``, ``repo``), reads remotes (``remote``), finds the token
(``token``), calls the forge (``api``) and shapes the text (``text``).
"""

from __future__ import annotations

from ren_lsp.forge.api import ForgeError, PullRequest
from ren_lsp.forge.git import GitError
from ren_lsp.forge.remote import RemoteError
from ren_lsp.forge.repo import RepoError
from ren_lsp.forge.token import TokenError

__all__ = ["ForgeError", "GitError", "PullRequest", "RemoteError", "RepoError", "TokenError"]
