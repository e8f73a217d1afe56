"""What the folder's manifests declare: dependencies, source roots, scripts, module paths.

``pyproject.toml`` (PEP 621, Poetry, setuptools, Hatch, PDM) with ``tomllib``, ``setup.cfg`` with
``configparser``, ``requirements*.txt`` with ``packaging``, ``package.json`` with ``json``,
``tsconfig.json``/``jsconfig.json`` (JSON with comments) with ``json5``, ``go.mod`` by its line
grammar (https://go.dev/ref/mod#go-mod-file-grammar). A manifest that does not parse is named in
the notes and otherwise skipped.
"""

from __future__ import annotations

import configparser
import json
import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable
from typing import Any

import attrs
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

_DEV_WORDS = re.compile(r"dev|test|doc|lint|type|check|ci\b|bench", re.IGNORECASE)
_GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?(\S+)\s+v\S+(.*)$")
_SETUP_PY_SCRIPT = re.compile(r"""['"]\s*([\w.-]+)\s*=\s*([\w.]+)\s*:\s*([\w.]+)\s*['"]""")


@attrs.define
class Script:
    """A declared command: ``name`` runs ``module``'s function (``why`` quotes the manifest)."""

    module: str
    why: str


@attrs.define
class Manifests:
    files: list[str] = attrs.Factory(list)
    #: canonical distribution, Node package or Go module -> declared for run time (not dev)
    python: dict[str, bool] = attrs.Factory(dict)
    node: dict[str, bool] = attrs.Factory(dict)
    go: dict[str, bool] = attrs.Factory(dict)
    #: folders of Python projects, and their source roots (``src`` layouts, package-dir)
    python_projects: list[str] = attrs.Factory(list)
    python_roots: list[str] = attrs.Factory(list)
    scripts: list[Script] = attrs.Factory(list)
    #: folder -> Go module path
    go_modules: dict[str, str] = attrs.Factory(dict)
    #: folder -> package.json's content
    packages: dict[str, dict[str, Any]] = attrs.Factory(dict)
    #: folder of a tsconfig -> (baseUrl folder or None, paths)
    tsconfigs: dict[str, tuple[str | None, dict[str, list[str]]]] = attrs.Factory(dict)
    problems: list[str] = attrs.Factory(list)

    def declare_python(self, requirement: str, runtime: bool) -> None:
        try:
            name = canonicalize_name(Requirement(requirement).name)
        except InvalidRequirement:
            return
        self.python[name] = self.python.get(name, False) or runtime


def read_manifests(paths: Iterable[str], read: Callable[[str], str | None]) -> Manifests:
    """Every manifest among ``paths`` (relative to the analysed folder), read with ``read``."""
    found = Manifests()
    listed = set(paths)
    for path in sorted(listed):
        folder, _, name = path.rpartition("/")
        parser = _PARSERS.get(name)
        if parser is None and ((name.startswith("requirements") and name.endswith(".txt"))
                               or (folder.endswith("requirements") and name.endswith(".txt"))):
            parser = _requirements
        if parser is None:
            continue
        text = read(path)
        if text is None:
            continue
        try:
            parser(found, folder, text, path)
        except (ValueError, KeyError, TypeError, AttributeError, configparser.Error) as exc:
            found.problems.append(f"`{path}` could not be read ({type(exc).__name__}): skipped")
            continue
        found.files.append(path)
    for project in found.python_projects:
        src = posixpath.join(project, "src") if project else "src"
        if any(p.startswith(src + "/") for p in listed) and src not in found.python_roots:
            found.python_roots.append(src)
    return found


def _pyproject(found: Manifests, folder: str, text: str, path: str) -> None:
    data = tomllib.loads(text)
    found.python_projects.append(folder)
    project = data.get("project", {})
    for requirement in project.get("dependencies", []):
        found.declare_python(requirement, True)
    groups = dict(project.get("optional-dependencies", {}))
    groups.update(data.get("dependency-groups", {}))
    for requirements in groups.values():
        for requirement in requirements:
            if isinstance(requirement, str):
                found.declare_python(requirement, False)
    for table in ("scripts", "gui-scripts"):
        for name, target in project.get(table, {}).items():
            found.scripts.append(Script(target.split(":")[0].strip(),
                                        f"[project.{table}] {name} = {target}"))
    for name, target in project.get("entry-points", {}).get("console_scripts", {}).items():
        found.scripts.append(Script(target.split(":")[0].strip(), f"console_scripts {name}"))
    tool = data.get("tool", {})
    poetry = tool.get("poetry", {})
    for key in ("dependencies", "dev-dependencies"):
        for name in poetry.get(key, {}):
            if name.lower() != "python":
                found.declare_python(name, key == "dependencies")
    for group in poetry.get("group", {}).values():
        for name in group.get("dependencies", {}):
            found.declare_python(name, False)
    for name, target in poetry.get("scripts", {}).items():
        reference = target if isinstance(target, str) else target.get("reference", "")
        found.scripts.append(Script(reference.split(":")[0], f"[tool.poetry.scripts] {name}"))
    roots: list[str] = []
    for package in poetry.get("packages", []):
        roots.append(package.get("from", ""))
    setuptools = tool.get("setuptools", {})
    package_dir = setuptools.get("package-dir", {})
    if isinstance(package_dir, dict) and "" in package_dir:
        roots.append(package_dir[""])
    find = setuptools.get("packages", {})
    if isinstance(find, dict):
        roots.extend(find.get("find", {}).get("where", []))
    wheel = tool.get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    roots.extend(posixpath.dirname(p.rstrip("/")) for p in wheel.get("packages", []))
    pdm_dir = tool.get("pdm", {}).get("build", {}).get("package-dir")
    if isinstance(pdm_dir, str):
        roots.append(pdm_dir)
    _add_roots(found, folder, roots)


def _setup_cfg(found: Manifests, folder: str, text: str, path: str) -> None:
    config = configparser.ConfigParser(interpolation=None)
    config.read_string(text)
    if folder not in found.python_projects:
        found.python_projects.append(folder)
    if config.has_section("options"):
        for line in config.get("options", "install_requires", fallback="").splitlines():
            if line.strip():
                found.declare_python(line.strip(), True)
        package_dir = config.get("options", "package_dir", fallback="")
        match = re.search(r"(?:^|\n)\s*=\s*(\S+)", package_dir)
        if match:
            _add_roots(found, folder, [match.group(1)])
    if config.has_section("options.extras_require"):
        for _, value in config.items("options.extras_require"):
            for line in value.splitlines():
                if line.strip():
                    found.declare_python(line.strip(), False)
    if config.has_section("options.packages.find"):
        _add_roots(found, folder, [config.get("options.packages.find", "where", fallback="")])
    if config.has_section("options.entry_points"):
        for line in config.get("options.entry_points", "console_scripts",
                               fallback="").splitlines():
            name, _, target = line.partition("=")
            if target.strip():
                found.scripts.append(Script(target.split(":")[0].strip(),
                                            f"setup.cfg console_scripts {name.strip()}"))


def _setup_py(found: Manifests, folder: str, text: str, path: str) -> None:
    if folder not in found.python_projects:
        found.python_projects.append(folder)
    if "console_scripts" in text:
        for name, module, _ in _SETUP_PY_SCRIPT.findall(text):
            found.scripts.append(Script(module, f"setup.py console_scripts {name}"))


def _add_roots(found: Manifests, folder: str, roots: Iterable[str]) -> None:
    for root in roots:
        if not isinstance(root, str) or not root.strip(". /"):
            continue
        joined = posixpath.normpath(posixpath.join(folder, root)).strip("/")
        if joined not in found.python_roots and not joined.startswith(".."):
            found.python_roots.append(joined)


def _requirements(found: Manifests, folder: str, text: str, path: str) -> None:
    runtime = not _DEV_WORDS.search(path.rpartition("/")[2])
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith(("#", "-", ".", "/")) or "://" in line:
            continue
        found.declare_python(line, runtime)


def _package_json(found: Manifests, folder: str, text: str, path: str) -> None:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    found.packages[folder] = data
    for key, runtime in (("dependencies", True), ("peerDependencies", True),
                         ("optionalDependencies", True), ("devDependencies", False)):
        for name in data.get(key, {}) or {}:
            found.node[name] = found.node.get(name, False) or runtime


def _tsconfig(found: Manifests, folder: str, text: str, path: str) -> None:
    import json5

    data = json5.loads(text)
    options = data.get("compilerOptions", {}) if isinstance(data, dict) else {}
    base = options.get("baseUrl")
    base_folder = (posixpath.normpath(posixpath.join(folder, base)).strip("/")
                   if isinstance(base, str) else None)
    if base_folder == ".":
        base_folder = ""
    paths = {k: list(v) for k, v in (options.get("paths") or {}).items()}
    if folder not in found.tsconfigs or path.endswith("tsconfig.json"):
        found.tsconfigs[folder] = (base_folder, paths)


def _go_mod(found: Manifests, folder: str, text: str, path: str) -> None:
    in_require = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("module "):
            found.go_modules[folder] = line.split()[1].strip('"')
        elif line.startswith("require ("):
            in_require = True
        elif in_require and line.startswith(")"):
            in_require = False
        elif in_require or line.startswith("require "):
            match = _GO_REQUIRE.match(line)
            if match:
                direct = "// indirect" not in match.group(2)
                found.go[match.group(1)] = found.go.get(match.group(1), False) or direct
    if folder not in found.go_modules:
        raise ValueError("no module line")


_PARSERS: dict[str, Callable[[Manifests, str, str, str], None]] = {
    "pyproject.toml": _pyproject, "setup.cfg": _setup_cfg, "setup.py": _setup_py,
    "package.json": _package_json, "tsconfig.json": _tsconfig, "jsconfig.json": _tsconfig,
    "go.mod": _go_mod,
}
