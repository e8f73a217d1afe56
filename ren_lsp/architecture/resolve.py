"""Which file an import names, by each language's own rules, or which outside module it is.

- **Python** searches like ``sys.path``: the importing file's folder when it is not a package
  (scripts, pytest's rootdir-less test folders), the source roots the manifests declare
  (``src`` layouts, ``package-dir``), each project's folder. In each, a package's ``__init__``
  wins over a module, stubs (``.pyi``) count, and a folder without ``__init__`` is a namespace
  package. ``import a.b`` names ``a/b``; ``from a import b`` names ``a/b`` when that is a module,
  else ``a``. A standard-library name is never a repo file (the interpreter's own comes first),
  unless the folder *is* a standard library (a built-in module never is). Relative imports go
  up from the file's package.
- **Go**: ``go.mod``'s module path maps import paths to folders, the module's root package
  included; an import names the package's files, never its ``_test.go`` files.
- **JavaScript/TypeScript**: relative specifiers with the extension and ``index`` rules (and
  TypeScript's ``./a.js`` for ``./a.ts``), ``tsconfig.json`` ``paths`` and ``baseUrl``, and the
  packages of a workspace by their ``package.json`` name.
"""

from __future__ import annotations

import posixpath
import re
import sys
from collections.abc import Iterable, Mapping

import attrs

from ren_lsp.architecture.manifests import Manifests
from ren_lsp.architecture.names import is_go_stdlib, is_node_builtin, python_stdlib

JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_JS_TO_TS = {".js": (".ts", ".tsx", ".d.ts"), ".jsx": (".tsx",), ".mjs": (".mts",),
             ".cjs": (".cts",)}
_LOCAL = re.compile(r"^(?:\.|crate\b|self\b|super\b)")
_STDLIB_MARKERS = ("os.py", "abc.py", "importlib/__init__.py")

STDLIB, THIRD_PARTY = "stdlib", "third-party"


@attrs.frozen
class Resolution:
    """The files an import names, or the outside module it names (``external``, ``kind``).

    Both empty: a module of the folder that has no file (a namespace package, a missing one).
    """

    targets: tuple[str, ...] = ()
    external: str = ""
    kind: str = ""


_NONE = Resolution()


def external_name(spec: str, language: str) -> str | None:
    """The outside package an unresolved import names, or None for a relative one."""
    spec = spec.strip("\"'<> ")
    if not spec or _LOCAL.match(spec) or spec.startswith("/"):
        return None
    if language in ("javascript", "typescript", "tsx"):
        parts = spec.split("/")
        return "/".join(parts[:2]) if spec.startswith("@") else parts[0]
    if language == "rust":
        return spec.split("::")[0]
    if language in ("go", "c", "cpp"):
        return spec
    return re.split(r"[./:]", spec)[0] or None


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _nearest(path: str, table: Mapping[str, object]) -> str | None:
    """The deepest folder of ``table`` that contains ``path``."""
    folder = path.rpartition("/")[0]
    while True:
        if folder in table:
            return folder
        if not folder:
            return None
        folder = folder.rpartition("/")[0]


class Resolver:
    """Resolution over one folder's listed files (paths relative to it)."""

    def __init__(self, listed: Iterable[str], manifests: Manifests) -> None:
        self.files = set(listed)
        self.manifests = manifests
        self.dirs: set[str] = set()
        self.go_files: dict[str, list[str]] = {}
        for path in self.files:
            folder = path.rpartition("/")[0]
            if path.endswith(".go") and not path.endswith("_test.go"):
                self.go_files.setdefault(folder, []).append(path)
            while folder and folder not in self.dirs:
                self.dirs.add(folder)
                folder = folder.rpartition("/")[0]
        roots = [*manifests.python_roots, *manifests.python_projects, ""]
        self.python_roots = tuple(dict.fromkeys(roots))
        self.stdlib_roots = {root for root in self.python_roots
                             if all(_join(root, m) in self.files for m in _STDLIB_MARKERS)}
        self.shadows: dict[str, str] = {}  # repo file -> the stdlib module it is named after
        self._cache: dict[tuple[tuple[str, ...], tuple[str, ...]],
                          tuple[str | None, list[str]] | None] = {}
        self.js_packages = {str(data["name"]): folder for folder, data in
                            manifests.packages.items() if isinstance(data.get("name"), str)}

    # -- Python -----------------------------------------------------------------------------

    def python_roots_for(self, path: str) -> tuple[str, ...]:
        folder = path.rpartition("/")[0]
        if self._package_file(folder) is None:
            return (folder, *(r for r in self.python_roots if r != folder))
        return self.python_roots

    def _package_file(self, folder: str) -> str | None:
        for name in ("__init__.py", "__init__.pyi"):
            if _join(folder, name) in self.files:
                return _join(folder, name)
        return None

    def _step(self, locations: list[str], name: str) -> tuple[str | None, list[str], bool]:
        """Find ``name`` in ``locations``: (its file, its folders if a package, found)."""
        portions = []
        for location in locations:
            base = _join(location, name)
            package = self._package_file(base) if base in self.dirs else None
            if package is not None:
                return package, [base], True
            for ext in (".py", ".pyi"):
                if base + ext in self.files:
                    return base + ext, [], True
            if base in self.dirs:
                portions.append(base)
        return None, portions, bool(portions)

    def _chain(self, roots: tuple[str, ...], parts: tuple[str, ...]
               ) -> tuple[str | None, list[str]] | None:
        """The deepest file of ``a.b.c`` and its folders, or None when ``a`` is not here."""
        key = (roots, parts)
        if key in self._cache:
            return self._cache[key]
        locations: list[str] = list(roots)
        deepest: str | None = None
        result: tuple[str | None, list[str]] | None = (None, locations)
        for depth, name in enumerate(parts):
            file, folders, found = self._step(locations, name)
            if not found:  # `a` is not here (external), or `a.b` names no module
                result = None if depth == 0 else (deepest, [])
                break
            deepest = file or deepest
            if not folders:  # a plain module: what follows are its attributes
                result = (file, [])
                break
            locations = folders
            result = (deepest, locations)
        self._cache[key] = result
        return result

    def python(self, path: str, spec: str, names: tuple[str, ...]) -> Resolution:
        dots = len(spec) - len(spec.lstrip("."))
        parts = tuple(p for p in spec[dots:].split(".") if p)
        if dots:
            folder = path.rpartition("/")[0].split("/") if "/" in path else []
            if dots - 1 > len(folder):
                return _NONE
            base = "/".join(folder[: len(folder) - (dots - 1)])
            found = self._chain((base,), parts) if parts else (self._package_file(base), [base])
            return self._python_names(found, names) if found else _NONE
        if not parts:
            return _NONE
        top = parts[0]
        roots = self.python_roots_for(path)
        if top in sys.builtin_module_names:  # compiled into the interpreter: found first
            return Resolution(external=top, kind=STDLIB)
        if top in python_stdlib():
            roots = tuple(r for r in roots if r in self.stdlib_roots)
            if not roots:
                return Resolution(external=top, kind=STDLIB)
        found = self._chain(roots, parts)
        if found is None:
            return Resolution(external=top, kind=STDLIB if top in python_stdlib() else
                              THIRD_PARTY)
        return self._python_names(found, names)

    def _python_names(self, found: tuple[str | None, list[str]],
                      names: tuple[str, ...]) -> Resolution:
        file, folders = found
        targets: list[str] = []
        for name in names:
            sub = self._step(folders, name)[0] if folders and name != "*" else None
            if sub is not None:
                targets.append(sub)
            elif file is not None:
                targets.append(file)
        if not names and file is not None:
            targets.append(file)
        return Resolution(tuple(dict.fromkeys(targets)))

    def module_file(self, parts: tuple[str, ...]) -> str | None:
        """The file of an absolute module name (``("pkg", "cli")``) from the source roots."""
        found = self._chain(self.python_roots, parts) if parts else None
        return found[0] if found else None

    def note_shadows(self) -> None:
        """Top-level repo modules named like a standard-library module (outside a stdlib)."""
        stdlib = python_stdlib()
        for root in self.python_roots:
            if root in self.stdlib_roots:
                continue
            for name in stdlib:
                file = self._step([root], name)[0]
                if file is not None:
                    self.shadows[file] = name

    # -- Go ---------------------------------------------------------------------------------

    def go(self, path: str, spec: str) -> Resolution:
        best = None
        for folder, module in self.manifests.go_modules.items():
            if (spec == module or spec.startswith(module + "/")) and (
                    best is None or len(module) > len(best[1])):
                best = (folder, module)
        if best is not None:
            folder = posixpath.normpath(_join(best[0], spec[len(best[1]):].strip("/")))
            folder = "" if folder == "." else folder
            return Resolution(tuple(sorted(self.go_files.get(folder, ()))))
        if is_go_stdlib(spec):
            return Resolution(external=spec, kind=STDLIB)
        required = [m for m in self.manifests.go if spec == m or spec.startswith(m + "/")]
        if required:
            return Resolution(external=max(required, key=len), kind=THIRD_PARTY)
        parts = spec.split("/")
        keep = 3 if parts[0] in ("github.com", "gitlab.com", "bitbucket.org") else len(parts)
        return Resolution(external="/".join(parts[:keep]), kind=THIRD_PARTY)

    # -- JavaScript and TypeScript ------------------------------------------------------------

    def js_file(self, base: str) -> str | None:
        base = posixpath.normpath(base)
        if base.startswith(".."):
            return None
        base = "" if base == "." else base
        ext = posixpath.splitext(base)[1]
        if ext in JS_EXTENSIONS and base in self.files:
            return base
        for swap in _JS_TO_TS.get(ext, ()):
            if base[: -len(ext)] + swap in self.files:
                return base[: -len(ext)] + swap
        for candidate in (*(base + e for e in JS_EXTENSIONS),
                          *(_join(base, "index" + e) for e in JS_EXTENSIONS)):
            if candidate in self.files:
                return candidate
        return None

    def javascript(self, path: str, spec: str) -> Resolution:
        if spec.startswith("."):
            hit = self.js_file(_join(path.rpartition("/")[0], spec))
            return Resolution((hit,)) if hit else _NONE
        if spec.startswith("/") or "://" in spec:
            return _NONE
        config = _nearest(path, self.manifests.tsconfigs)
        if config is not None:
            base, paths = self.manifests.tsconfigs[config]
            start = config if base is None else base
            for pattern, replacements in paths.items():
                head, star, tail = pattern.partition("*")
                if not (spec == pattern if not star else
                        spec.startswith(head) and spec.endswith(tail)
                        and len(spec) >= len(head) + len(tail)):
                    continue
                middle = spec[len(head): len(spec) - len(tail)] if star else ""
                for replacement in replacements:
                    hit = self.js_file(_join(start, replacement.replace("*", middle)))
                    if hit:
                        return Resolution((hit,))
            if base is not None:
                hit = self.js_file(_join(base, spec))
                if hit:
                    return Resolution((hit,))
        for name, folder in self.js_packages.items():
            if spec == name or spec.startswith(name + "/"):
                hit = self._js_package(folder, spec[len(name):].strip("/"))
                return Resolution((hit,)) if hit else _NONE
        if is_node_builtin(spec):
            return Resolution(external=spec.removeprefix("node:").split("/")[0], kind=STDLIB)
        return Resolution(external=external_name(spec, "javascript") or spec, kind=THIRD_PARTY)

    def _js_package(self, folder: str, sub: str) -> str | None:
        if sub:
            return self.js_file(_join(folder, sub)) or self.js_file(_join(folder, "src/" + sub))
        data = self.manifests.packages.get(folder, {})
        for field in ("source", "types", "typings", "module", "main"):
            value = data.get(field)
            if isinstance(value, str):
                hit = self.js_file(_join(folder, value))
                if hit:
                    return hit
        return self.js_file(_join(folder, "src/index")) or self.js_file(_join(folder, "index"))
