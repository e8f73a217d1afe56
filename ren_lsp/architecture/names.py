"""Which names are the standard library's, and which distribution an import name comes from.

- Python: ``sys.stdlib_module_names`` (and the built-in modules) of the running interpreter.
- Node: the built-in modules of Node.js, as ``require('node:module').builtinModules`` lists them
  in Node 20 and 22 (https://nodejs.org/api/module.html#modulebuiltinmodules), without the
  internal ``_``-prefixed ones, plus the ``node:``-only ones (``node:test``, ``node:sqlite``,
  ``node:sea``; https://nodejs.org/api/modules.html#built-in-modules-with-mandatory-node-prefix).
- Go: an import path whose first element has no dot (``fmt``, ``net/http``), as ``go`` itself
  decides (https://pkg.go.dev/cmd/go#hdr-Remote_import_paths).
- Python distributions: ``importlib.metadata.packages_distributions()`` for what is installed
  here, then ``IMPORT_TO_DIST`` for common packages whose import name differs from their name on
  PyPI, then the rule that ``foo_bar`` is provided by ``foo-bar``.
"""

from __future__ import annotations

import sys
from functools import lru_cache

from packaging.utils import canonicalize_name

NODE_BUILTINS = frozenset([
    "assert", "assert/strict", "async_hooks", "buffer", "child_process", "cluster", "console",
    "constants", "crypto", "dgram", "diagnostics_channel", "dns", "dns/promises", "domain",
    "events", "fs", "fs/promises", "http", "http2", "https", "inspector",
    "inspector/promises", "module", "net", "os", "path", "path/posix", "path/win32",
    "perf_hooks", "process", "punycode", "querystring", "readline", "readline/promises",
    "repl", "stream", "stream/consumers", "stream/promises", "stream/web", "string_decoder",
    "sys", "timers", "timers/promises", "tls", "trace_events", "tty", "url", "util",
    "util/types", "v8", "vm", "wasi", "worker_threads", "zlib",
])
NODE_PREFIX_ONLY = frozenset({"test", "test/reporters", "sqlite", "sea"})

#: import name -> the PyPI distributions that provide it, where the names differ
IMPORT_TO_DIST: dict[str, tuple[str, ...]] = {
    "yaml": ("PyYAML",), "PIL": ("Pillow",), "bs4": ("beautifulsoup4",),
    "cv2": ("opencv-python", "opencv-python-headless", "opencv-contrib-python"),
    "sklearn": ("scikit-learn",), "skimage": ("scikit-image",), "attr": ("attrs",),
    "dateutil": ("python-dateutil",), "jwt": ("PyJWT",), "dotenv": ("python-dotenv",),
    "serial": ("pyserial",), "usb": ("pyusb",), "git": ("GitPython",),
    "Crypto": ("pycryptodome",), "OpenSSL": ("pyOpenSSL",), "MySQLdb": ("mysqlclient",),
    "psycopg2": ("psycopg2", "psycopg2-binary"), "docx": ("python-docx",),
    "magic": ("python-magic",), "google": ("protobuf", "google-api-python-client"),
    "pkg_resources": ("setuptools",), "jose": ("python-jose",), "multipart": ("python-multipart",),
    "zmq": ("pyzmq",), "win32api": ("pywin32",), "gi": ("PyGObject",), "fitz": ("PyMuPDF",),
    "Levenshtein": ("python-Levenshtein", "Levenshtein"), "slugify": ("python-slugify",),
    "lsprotocol": ("lsprotocol",), "tree_sitter": ("tree-sitter",), "markupsafe": ("MarkupSafe",),
    "jinja2": ("Jinja2",), "sqlalchemy": ("SQLAlchemy",), "typing_extensions":
    ("typing-extensions",), "mako": ("Mako",), "pytest_lsp": ("pytest-lsp",),
}


@lru_cache(maxsize=1)
def python_stdlib() -> frozenset[str]:
    """The top-level names of the running interpreter's standard library."""
    return frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)


def is_node_builtin(spec: str) -> bool:
    """Whether a bare specifier names a Node.js built-in (``fs``, ``node:fs/promises``)."""
    if spec.startswith("node:"):
        name = spec[5:]
        return name in NODE_BUILTINS or name in NODE_PREFIX_ONLY
    return spec in NODE_BUILTINS


def is_go_stdlib(path: str) -> bool:
    """Whether a Go import path is the standard library's (no dot in its first element)."""
    return "." not in path.split("/", 1)[0]


@lru_cache(maxsize=1)
def _installed() -> dict[str, tuple[str, ...]]:
    from importlib.metadata import packages_distributions

    try:
        return {name: tuple(dists) for name, dists in packages_distributions().items()}
    except Exception:  # a broken installed distribution must not break the analysis
        return {}


def distributions_of(import_name: str) -> set[str]:
    """The canonical names of the distributions that may provide a top-level import name."""
    found: set[str] = {canonicalize_name(d) for d in _installed().get(import_name, ())}
    found |= {canonicalize_name(d) for d in IMPORT_TO_DIST.get(import_name, ())}
    found.add(canonicalize_name(import_name))
    found.add(canonicalize_name("python-" + import_name))
    return found


def import_names_of(dist: str) -> set[str]:
    """The import names a distribution provides (canonical dist name in), as far as known."""
    wanted = canonicalize_name(dist)
    names = {name for name, dists in _installed().items()
             if any(canonicalize_name(d) == wanted for d in dists)}
    names |= {name for name, dists in IMPORT_TO_DIST.items()
              if any(canonicalize_name(d) == wanted for d in dists)}
    names.add(wanted.replace("-", "_"))
    names.add(wanted.removeprefix("python-").replace("-", "_"))
    return names
