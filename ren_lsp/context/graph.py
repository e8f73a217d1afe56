"""Imports between the workspace's files: which file an import specifier names, and who imports
a file.

Resolution is by path, per language, with no build system asked: Python modules by dotted path
(relative imports from the importer's package; absolute ones from the root first, then by path
suffix, so ``src/`` layouts work; a standard-library name only from the root, so a ``pkg/abc.py``
never captures ``from abc import ABC``), JavaScript and TypeScript relative specifiers with their
extensions and ``index`` files, Go import paths by ``go.mod``'s module path (the module's root
package included), else by package directory suffix, Rust ``use`` paths and ``mod``
declarations, Java imports by package path, C and C++ includes relative to the includer, then by
path suffix.
External packages do not resolve and are dropped.
"""

from __future__ import annotations

import posixpath
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

#: file names that stand for their directory (a package, a module folder)
DIRECTORY_FILES = frozenset({"__init__", "index", "mod"})

_JS_SUFFIXES = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_RUST_EXTERNAL = frozenset({"std", "core", "alloc"})
_SPLIT = re.compile(r"[./:\\{},\s*]+")
_STDLIB = frozenset(sys.stdlib_module_names)
_GO_MODULE = re.compile(r"^\s*module\s+\"?([^\s\"]+)", re.MULTILINE)


class Node(Protocol):
    """What the graph needs to know of an indexed file."""

    @property
    def key(self) -> str: ...
    @property
    def root(self) -> int: ...
    @property
    def rel(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def imports(self) -> tuple[str, ...]: ...
    @property
    def path(self) -> str: ...


def split_ext(rel: str) -> tuple[str, str]:
    """``"a/b.d.ts"`` -> ``("a/b", ".d.ts")``; ``"a/b.py"`` -> ``("a/b", ".py")``."""
    if rel.endswith(".d.ts"):
        return rel[:-5], ".d.ts"
    base, ext = posixpath.splitext(rel)
    return base, ext


def module_path(rel: str) -> str:
    """The path a file is imported by: no extension, and a package's ``__init__`` is its folder."""
    base, _ = split_ext(rel)
    head, _, name = base.rpartition("/")
    return head if name in DIRECTORY_FILES and head else base


def import_keys(imports: Iterable[str]) -> set[str]:
    """Words of import specifiers, to find the files that might import a given file."""
    keys: set[str] = set()
    for spec in imports:
        keys.update(part for part in _SPLIT.split(spec.removeprefix("mod:")) if part)
    return keys


def own_keys(rel: str) -> set[str]:
    """The words an import of this file would contain (its name, its folder's name)."""
    base, _ = split_ext(rel)
    parts = base.split("/")
    keys = {parts[-1]}
    if len(parts) > 1:
        keys.add(parts[-2])  # packages, Go and Java directories, index files
    return keys


class Graph:
    """Lookup tables over the indexed files, and the imports resolved so far.

    ``add`` and ``remove`` keep the tables current; resolutions are cached, and the cache is
    dropped when the set of files changes (a new file may satisfy an import that failed).
    """

    def __init__(self, nodes: Mapping[str, Node]) -> None:
        self.nodes = nodes
        self._by_rel: dict[tuple[int, str], str] = {}
        self._by_name: dict[str, set[str]] = {}  # last part of the module path -> keys
        self._by_folder: dict[str, set[str]] = {}  # name of the folder a file is in -> keys
        self._by_import_key: dict[str, set[str]] = {}  # word of an import -> importer keys
        #: files added whose imports are not in ``_by_import_key`` yet: splitting every file's
        #: imports into words waits for the first ``importers_of`` (a restart needs none)
        self._pending: dict[str, Node] = {}
        self._resolved: dict[str, frozenset[str]] = {}
        #: key -> the files that import it: a request asks for hundreds of candidates' (twice
        #: when it parses some on demand); any change of imports empties it
        self._importers: dict[str, frozenset[str]] = {}
        #: (root, folder of a go.mod) -> its module path
        self._go_modules: dict[tuple[int, str], str] = {}

    def add(self, node: Node) -> None:
        """A new file: it may satisfy imports that failed before, so resolve them again."""
        self._by_rel[(node.root, node.rel)] = node.key
        self._by_name.setdefault(module_path(node.rel).rpartition("/")[2], set()).add(node.key)
        self._by_folder.setdefault(_folder_name(node.rel), set()).add(node.key)
        self._pending[node.key] = node
        self._read_go_mod(node)
        self._resolved.clear()
        self._importers.clear()

    def _read_go_mod(self, node: Node) -> None:
        if node.rel.rpartition("/")[2] != "go.mod":
            return
        try:
            match = _GO_MODULE.search(Path(node.path).read_text(encoding="utf-8",
                                                                errors="replace"))
        except OSError:
            match = None
        folder = (node.root, node.rel.rpartition("/")[0])
        if match:
            self._go_modules[folder] = match.group(1)
        else:
            self._go_modules.pop(folder, None)

    def replace(self, old: Node, new: Node) -> None:
        """A file's content changed: only its own imports need resolving again."""
        if tuple(old.imports) == tuple(new.imports) and new.rel.rpartition("/")[2] != "go.mod":
            # The same imports (a keystroke, a parse on demand): nothing resolves otherwise.
            if self._pending.pop(old.key, None) is not None:
                self._pending[new.key] = new
            return
        if self._pending.pop(old.key, None) is not None:
            self._pending[new.key] = new  # its words were never indexed: nothing to undo
        else:
            for key in import_keys(old.imports):
                _discard(self._by_import_key, key, old.key)
            self._add_imports(new)
        self._resolved.pop(new.key, None)
        self._importers.clear()
        if new.rel.rpartition("/")[2] == "go.mod":  # every Go import may resolve differently
            self._read_go_mod(new)
            self._resolved.clear()

    def _take_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for node in pending.values():
            self._add_imports(node)

    def _add_imports(self, node: Node) -> None:
        for key in import_keys(node.imports):
            self._by_import_key.setdefault(key, set()).add(node.key)

    def remove(self, node: Node) -> None:
        indexed = self._pending.pop(node.key, None) is None
        self._by_rel.pop((node.root, node.rel), None)
        _discard(self._by_name, module_path(node.rel).rpartition("/")[2], node.key)
        _discard(self._by_folder, _folder_name(node.rel), node.key)
        if indexed:
            for key in import_keys(node.imports):
                _discard(self._by_import_key, key, node.key)
        if node.rel.rpartition("/")[2] == "go.mod":
            self._go_modules.pop((node.root, node.rel.rpartition("/")[0]), None)
        self._resolved.clear()
        self._importers.clear()

    # -- queries -------------------------------------------------------------------------------

    def imports_of(self, key: str) -> frozenset[str]:
        """The workspace files that ``key`` imports."""
        if key not in self._resolved:
            node = self.nodes.get(key)
            found: set[str] = set()
            if node is not None:
                for spec in node.imports:
                    found.update(self.resolve(node, spec))
            found.discard(key)
            self._resolved[key] = frozenset(found)
        return self._resolved[key]

    def importers_of(self, key: str) -> frozenset[str]:
        """The workspace files that import ``key``."""
        found = self._importers.get(key)
        if found is None:
            found = self._importers[key] = self._find_importers(key)
        return found

    def _find_importers(self, key: str) -> frozenset[str]:
        node = self.nodes.get(key)
        if node is None:
            return frozenset()
        candidates: set[str] = set()
        words = own_keys(node.rel)
        if node.rel.endswith(".go"):  # a root package is imported by its module path's words
            module = self._go_import_path(node)
            if module:
                words.add(module.rpartition("/")[2])
        self._take_pending()
        for word in words:
            candidates |= self._by_import_key.get(word, set())
        candidates.discard(key)
        return frozenset(other for other in candidates if key in self.imports_of(other))

    def resolve(self, node: Node, spec: str) -> set[str]:
        """The files one import specifier of ``node`` names (empty when external)."""
        language = node.language
        if language == "python":
            return self._python(node, spec)
        if language in ("javascript", "typescript", "tsx"):
            return self._javascript(node, spec)
        if language == "go":
            return self._go(node, spec)
        if language == "rust":
            return self._rust(node, spec)
        if language == "java":
            return self._java(node, spec)
        if language in ("c", "cpp"):
            return self._include(node, spec)
        return set()

    # -- lookups -------------------------------------------------------------------------------

    def _exact(self, root: int, rel: str) -> str | None:
        return self._by_rel.get((root, rel))

    def _suffix(self, node: Node, target: str, *, exts: tuple[str, ...] = ()) -> set[str]:
        """Files whose module path is ``target`` or ends with ``/target`` (nearest root first)."""
        name = target.rpartition("/")[2]
        found = []
        for key in self._by_name.get(name, ()):
            other = self.nodes.get(key)
            if other is None:
                continue
            if exts and not other.rel.endswith(exts):
                continue
            path = module_path(other.rel)
            if path == target or path.endswith("/" + target):
                found.append((other.root != node.root, len(path), key))
        if not found:
            return set()
        found.sort()
        best = found[0][:2]
        return {key for same, length, key in found if (same, length) == best}

    def _directory(self, node: Node, directory: str, exts: tuple[str, ...]) -> set[str]:
        """Files directly in a folder whose path ends with ``directory``."""
        name = directory.rpartition("/")[2]
        found: set[str] = set()
        for key in self._by_folder.get(name, ()):
            other = self.nodes.get(key)
            if other is None or not other.rel.endswith(exts):
                continue
            folder = other.rel.rpartition("/")[0]
            if folder == directory or folder.endswith("/" + directory):
                found.add(key)
        return found

    # -- languages -----------------------------------------------------------------------------

    def _python(self, node: Node, spec: str) -> set[str]:
        module, _, names_text = spec.partition(":")
        names = [name for name in names_text.split(",") if name and name != "*"]
        dots = len(module) - len(module.lstrip("."))
        parts = [part for part in module[dots:].split(".") if part]
        if dots:
            folder = node.rel.rpartition("/")[0].split("/") if "/" in node.rel else []
            up = dots - 1
            if up > len(folder):
                return set()
            base = folder[: len(folder) - up] + parts
            found: set[str] = set()
            for name in names:
                found |= self._python_exact(node, [*base, name])
            return found or self._python_exact(node, base)
        found = set()
        for name in names:
            found |= self._python_exact(node, [*parts, name])
        if found or (parts and self._python_exact(node, parts)):
            return found or self._python_exact(node, parts)
        if parts and parts[0] in _STDLIB:
            return set()  # the interpreter's own module, never a file deeper in the repo
        for name in names:
            found |= self._suffix(node, "/".join([*parts, name]), exts=(".py", ".pyi"))
        if found:
            return found
        return self._suffix(node, "/".join(parts), exts=(".py", ".pyi")) if parts else set()

    def _python_exact(self, node: Node, parts: list[str]) -> set[str]:
        if not parts:
            return set()
        path = "/".join(parts)
        for rel in (f"{path}.py", f"{path}/__init__.py", f"{path}.pyi", f"{path}/__init__.pyi"):
            key = self._exact(node.root, rel)
            if key is not None:
                return {key}
        return set()

    def _javascript(self, node: Node, spec: str) -> set[str]:
        if spec.startswith("."):
            folder = node.rel.rpartition("/")[0]
            target = posixpath.normpath(posixpath.join(folder, spec))
            if target.startswith(".."):
                return set()
            for rel in (target, *(target + ext for ext in _JS_SUFFIXES),
                        *(f"{target}/index{ext}" for ext in _JS_SUFFIXES)):
                key = self._exact(node.root, rel)
                if key is not None:
                    return {key}
            return set()
        for alias in ("@/", "~/", "#/"):
            if spec.startswith(alias):
                spec = "src/" + spec[len(alias):] if alias != "#/" else spec[len(alias):]
                break
        if "/" not in spec:
            return set()  # a package: external
        base, ext = split_ext(spec)
        return self._suffix(node, module_path(spec) if ext else base, exts=_JS_SUFFIXES)

    def _go_import_path(self, node: Node) -> str | None:
        """The import path of a Go file's package, from the nearest go.mod above it."""
        folder = node.rel.rpartition("/")[0]
        here = folder
        while True:
            module = self._go_modules.get((node.root, here))
            if module is not None:
                rest = folder[len(here):].strip("/")
                return f"{module}/{rest}" if rest else module
            if not here:
                return None
            here = here.rpartition("/")[0]

    def _go(self, node: Node, spec: str) -> set[str]:
        for (root, folder), module in self._go_modules.items():
            if root == node.root and (spec == module or spec.startswith(module + "/")):
                directory = "/".join(p for p in (folder, spec[len(module):].strip("/")) if p)
                return {key for key in self._directory(node, directory, (".go",))
                        if self.nodes[key].root == node.root
                        and self.nodes[key].rel.rpartition("/")[0] == directory
                        and not key.endswith("_test.go")}
        if any(root == node.root for root, _ in self._go_modules):
            return set()  # outside every module of this root: another module's package
        parts = spec.split("/")
        if len(parts) < 2:
            return set()  # the standard library
        for keep in range(len(parts), 1, -1):
            found = self._directory(node, "/".join(parts[-keep:]), (".go",))
            if found:
                return found
        return set()

    def _rust(self, node: Node, spec: str) -> set[str]:
        folder, _, file_name = node.rel.rpartition("/")
        stem = split_ext(file_name)[0]
        if spec.startswith("mod:"):
            name = spec[4:]
            base = folder if stem in ("mod", "lib", "main") else "/".join(
                part for part in (folder, stem) if part)
            prefix = f"{base}/" if base else ""
            for rel in (f"{prefix}{name}.rs", f"{prefix}{name}/mod.rs"):
                key = self._exact(node.root, rel)
                if key is not None:
                    return {key}
            return set()
        head, _, group = spec.partition("{")
        tails = [part.strip() for part in group.rstrip("}").split(",")] if group else [""]
        found: set[str] = set()
        for tail in tails:
            parts = [part for part in (head + tail).split("::") if part]
            if parts and parts[0] in _RUST_EXTERNAL:
                continue
            while parts and parts[0] in ("crate", "self", "super"):
                parts = parts[1:]
            for keep in range(len(parts), 0, -1):
                hit = self._suffix(node, "/".join(parts[:keep]), exts=(".rs",))
                if hit:
                    found |= hit
                    break
        return found

    def _java(self, node: Node, spec: str) -> set[str]:
        parts = [part for part in spec.split(".") if part]
        if not parts:
            return set()
        if parts[-1] == "*":
            found = self._suffix(node, "/".join(parts[:-1]), exts=(".java",))
            return found or self._directory(node, "/".join(parts[:-1]), (".java",))
        for keep in range(len(parts), 1, -1):
            found = self._suffix(node, "/".join(parts[:keep]), exts=(".java",))
            if found:
                return found
        return set()

    def _include(self, node: Node, spec: str) -> set[str]:
        folder = node.rel.rpartition("/")[0]
        near = posixpath.normpath(posixpath.join(folder, spec)) if folder else spec
        key = self._exact(node.root, near)
        if key is not None:
            return {key}
        base, ext = split_ext(spec)
        return {key for key in self._suffix(node, base)
                if self.nodes[key].rel.endswith(spec)} if ext else set()


def _folder_name(rel: str) -> str:
    return rel.rpartition("/")[0].rpartition("/")[2]


def _discard(table: dict[str, set[str]], key: str, value: str) -> None:
    values = table.get(key)
    if values is not None:
        values.discard(value)
        if not values:
            del table[key]
