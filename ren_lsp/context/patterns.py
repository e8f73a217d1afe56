"""Gitignore patterns, matched fast where they are plain: the built-in lists of ``files.py``.

``matcher(patterns)`` is what decides for a list of patterns: ``SimplePatterns`` when every
pattern has one of its plain forms (the built-in exclusion and secret lists: a test holds it
equal to ``pathspec``), else ``pathspec`` itself (a user's negations, ``**``, classes), which
is then imported.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec


class SimplePatterns:
    """Gitignore patterns of the plain forms the built-in lists use, matched a path component
    at a time: what ``pathspec`` decides for them (a test holds the two equal), without
    compiling two hundred regular expressions in every process that lists files.

    The forms: ``name``, ``*.suffix`` and other ``*`` globs (any component: a directory that
    matches takes everything under it), the same with a trailing ``/`` (directories only), and
    ``a/b`` (anchored at the root). No negation, ``**``, ``?``, classes or escapes.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        names: set[str] = set()
        suffixes: list[str] = []
        globs: list[str] = []
        dir_names: set[str] = set()
        dir_globs: list[str] = []
        anchored: list[tuple[list[str], bool]] = []
        for pattern in patterns:
            if not self.handles(pattern):
                raise ValueError(f"not a simple pattern: {pattern!r}")
            dir_only = pattern.endswith("/")
            body = pattern.rstrip("/")
            if "/" in body:
                anchored.append((body.split("/"), dir_only))
            elif "*" not in body:
                (dir_names if dir_only else names).add(body)
            elif dir_only:
                dir_globs.append(body)
            elif body.startswith("*") and "*" not in body[1:]:
                suffixes.append(body[1:])
            else:
                globs.append(body)
        self.names, self.dir_names = frozenset(names), frozenset(dir_names)
        self.suffixes = tuple(suffixes)
        self.globs = _globs(globs)
        self.dir_globs = _globs(dir_globs)
        #: ``a/b`` patterns: the files they name, and the folders (a folder takes what is in it)
        self.anchored_files = frozenset("/".join(p) for p, dir_only in anchored if not dir_only)
        self.anchored_dirs = frozenset("/".join(p) for p, _ in anchored)
        #: folder path -> whether it (and so everything under it) matches: a listing asks
        #: about the same folders over and over
        self._folders: dict[str, bool] = {}

    @staticmethod
    def handles(pattern: str) -> bool:
        """Whether ``pattern`` has one of the forms above."""
        body = pattern[:-1] if pattern.endswith("/") else pattern
        if not body or body.startswith("/") or body.endswith("/") or "**" in body:
            return False
        if any(c in body for c in "!?[]\\#") or any(c.isspace() for c in pattern):
            return False  # negations, classes, escapes, comments; pathspec strips blanks
        return "/" not in body or (body.count("/") == 1 and "*" not in body)

    def match(self, rel: str) -> bool:
        """Whether ``rel`` (relative posix; a trailing ``/`` for a directory) matches."""
        if rel.endswith("/"):
            return self._folder(rel[:-1])
        head, _, name = rel.rpartition("/")
        return self._name(name) or rel in self.anchored_files or (bool(head) and self._folder(head))

    def _name(self, name: str) -> bool:
        """Whether a pattern that matches files and folders alike matches this name."""
        return name in self.names or name.endswith(self.suffixes) or bool(
            self.globs and self.globs(name))

    def _folder(self, path: str) -> bool:
        folders = self._folders
        found = folders.get(path)
        if found is not None:
            return found
        # Up to the nearest folder decided before (a loop: paths may be thousands deep), then
        # down again, deciding each from its parent.
        unknown = [path]
        head = path.rpartition("/")[0]
        while head and head not in folders:
            unknown.append(head)
            head = head.rpartition("/")[0]
        found = folders.get(head, False) if head else False
        if len(folders) >= 100_000:
            folders.clear()
        for folder in reversed(unknown):
            name = folder.rpartition("/")[2]
            found = found or self._name(name) or name in self.dir_names or bool(
                self.dir_globs and self.dir_globs(name)) or folder in self.anchored_dirs
            folders[folder] = found
        return found


def _globs(globs: Sequence[str]) -> Callable[[str], object] | None:
    """One compiled test for components matching any of ``globs`` (``*`` within a component)."""
    if not globs:
        return None
    return re.compile("|".join(fnmatch.translate(glob) for glob in globs)).match


@lru_cache(maxsize=32)
def matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """``match(rel)`` for these gitignore patterns: the simple matcher when it handles them
    all, else ``pathspec`` (negations, ``**``, classes: a user's ``secretFiles`` may use any)."""
    if all(SimplePatterns.handles(pattern) for pattern in patterns):
        return SimplePatterns(patterns).match
    return spec(patterns).match_file


@lru_cache(maxsize=32)
def spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)
