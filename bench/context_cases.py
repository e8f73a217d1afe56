"""Questions written from real code, with where the answer lives (checked by hand with grep).

Each set is (workspace folder, [(question, [answer files relative to it]), ...]). The workspaces
are installed packages' sources and the standard library of the running Python, so the cases
run on any machine with ren-lsp's development dependencies installed.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import _pytest
import aiohttp
import httpx
import jsonschema
import pygls

Question = tuple[str, list[str]]

PYTEST: list[Question] = [
    ("How does approximate comparison of floats with a relative tolerance work?",
     ["approx.py"]),
    ("where is the fixture that lets a test temporarily replace an attribute or an environment "
     "variable", ["monkeypatch.py"]),
    ("How are long assertion failure explanations cut down when not running verbose?",
     ["assertion/truncate.py"]),
    ("how does --lf remember which tests failed in the previous run", ["cacheprovider.py"]),
    ("where are the per-test temporary directories created and old ones cleaned up",
     ["tmpdir.py"]),
    ("how are skipif and xfail conditions evaluated for a test item", ["skipping.py"]),
    ("how does pytest find the rootdir and the ini file from the command line arguments",
     ["config/findpaths.py"]),
    ("how is stdout and stderr captured during a test by duplicating file descriptors",
     ["capture.py"]),
    ("where is the import hook that rewrites assert statements in test modules",
     ["assertion/rewrite.py"]),
    ("how is the junit xml report written", ["junitxml.py"]),
    ("how are -k and -m expressions parsed and evaluated", ["mark/expression.py"]),
    ("How are doctests in modules and text files collected?", ["doctest.py"]),
    ("Where is parametrization of test functions handled, one call per parameter set?",
     ["python.py"]),
    ("how do I check that code emits a particular warning", ["recwarn.py"]),
    ("how are log records captured and shown in the report of a failing test", ["logging.py"]),
    ("where is the option that stops at the first failure and resumes from it in the next run",
     ["stepwise.py"]),
    ("how does the interactive debugger get started on errors", ["debugging.py"]),
    ("How does the check that an exception is raised match its message against a regex?",
     ["raises.py"]),
    ("how are command line options and ini values declared by plugins",
     ["config/argparsing.py"]),
    ("where are fixture scopes ordered and fixtures torn down", ["fixtures.py"]),
    ("how is the display width of east asian wide characters computed for terminal output",
     ["_io/wcwidth.py"]),
    ("where is the short test summary info section produced at the end of the run",
     ["terminal.py"]),
    ("how are unittest TestCase classes run under pytest", ["unittest.py"]),
    ("where does the faulthandler timeout dump tracebacks of hanging tests",
     ["faulthandler.py"]),
]

HTTPX: list[Question] = [
    ("where are redirects followed and which headers are dropped when the redirect goes to "
     "another host", ["_client.py"]),
    ("how is HTTP digest authentication computed", ["_auth.py"]),
    ("where are the default connect and read timeouts and connection pool limits configured",
     ["_config.py"]),
    ("how are gzip, deflate and brotli encoded response bodies decoded", ["_decoders.py"]),
    ("how are file uploads encoded as multipart form data", ["_multipart.py"]),
    ("how are proxies read from environment variables like HTTPS_PROXY and NO_PROXY",
     ["_utils.py"]),
    ("how can I mock responses in tests without a network", ["_transports/mock.py"]),
    ("what raises an error for 4xx and 5xx status codes", ["_models.py"]),
    ("how is a URL parsed and its path percent-encoded and normalised", ["_urlparse.py"]),
    ("how do I call an ASGI application directly from the client", ["_transports/asgi.py"]),
    ("where are the exception classes for timeouts and network errors defined",
     ["_exceptions.py"]),
    ("how does the command line client print the response", ["_main.py"]),
]

AIOHTTP: list[Question] = [
    ("how does the client connector limit connections per host and cache DNS results",
     ["connector.py"]),
    ("how are cookies stored and filtered by domain and expiry on the client",
     ["cookiejar.py"]),
    ("where is the middleware that adds or removes a trailing slash from request paths",
     ["web_middlewares.py"]),
    ("how are static files sent with sendfile and range requests", ["web_fileresponse.py"]),
    ("how is the access log line formatted", ["web_log.py"]),
    ("how is hostname resolution done with aiodns or a thread pool", ["resolver.py"]),
    ("how can I trace request start and end events on the client for metrics",
     ["tracing.py"]),
    ("how do the server side websocket handshake and the ping heartbeat work", ["web_ws.py"]),
    ("how is a multipart body read part by part", ["multipart.py"]),
    ("how does run_app set up the server and shut down gracefully",
     ["web.py", "web_runner.py"]),
    ("where are HTTP request lines and headers parsed in pure python", ["http_parser.py"]),
    ("how are URL routes with variable parts matched to handlers",
     ["web_urldispatcher.py"]),
]

STDLIB: list[Question] = [
    ("where is the least recently used cache decorator implemented", ["functools.py"]),
    ("how does json decode strings with escape sequences and surrogate pairs",
     ["json/decoder.py"]),
    ("how does the asyncio event loop schedule callbacks with call_later",
     ["asyncio/base_events.py"]),
    ("how are dataclass __init__ and __repr__ methods generated", ["dataclasses.py"]),
    ("where does argparse format the usage message", ["argparse.py"]),
    ("how is a temporary directory created and cleaned up", ["tempfile.py"]),
    ("how does subprocess communicate with a child process through pipes with a timeout",
     ["subprocess.py"]),
    ("how are http cookies parsed from a Set-Cookie header",
     ["http/cookies.py", "http/cookiejar.py"]),
    ("how does logging rotate log files by size", ["logging/handlers.py"]),
    ("where is the heap queue merge of several sorted inputs", ["heapq.py"]),
    ("how does shutil copy a directory tree", ["shutil.py"]),
    ("how does the email package parse MIME headers with encoded words",
     ["email/_header_value_parser.py", "email/header.py"]),
    ("how is a zip file's central directory read", ["zipfile.py"]),
    ("how does the tokenizer for Python source code work", ["tokenize.py"]),
    ("how are unified diffs generated between two lists of lines", ["difflib.py"]),
    ("how does pathlib glob match patterns with **", ["pathlib.py"]),
    ("where is the thread pool executor implemented", ["concurrent/futures/thread.py"]),
    ("how does unittest discover tests in a directory", ["unittest/loader.py"]),
    ("how is a URL split into scheme, netloc, path and query", ["urllib/parse.py"]),
    ("how does the csv module sniff the dialect of a file", ["csv.py"]),
    ("how are TOML files parsed", ["tomllib/_parser.py"]),
    ("how does textwrap wrap paragraphs to a width", ["textwrap.py"]),
]


#: Written after the ranking's weights were last changed, and never used to tune them.
JSONSCHEMA: list[Question] = [
    ("how is the best error picked among many validation errors", ["exceptions.py"]),
    ("where are format checkers for email, ipv4 and date-time registered", ["_format.py"]),
    ("how does the minLength keyword validate strings", ["_keywords.py"]),
    ("how are JSON types like integer and number checked", ["_types.py"]),
    ("how is a validator class created from a meta-schema and keyword functions",
     ["validators.py"]),
    ("how does the command line tool print the errors of an instance", ["cli.py"]),
    ("how are $ref references resolved", ["validators.py"]),
    ("how does the dependencies keyword of older drafts work", ["_legacy_keywords.py"]),
    ("how are two JSON values compared for equality, keeping 1 and true apart",
     ["_utils.py"]),
]

PYGLS: list[Question] = [
    ("how are JSON-RPC messages read from stdin with Content-Length headers",
     ["io_.py", "protocol/json_rpc.py"]),
    ("how are positions converted between UTF-16 and UTF-8 code units",
     ["workspace/position_codec.py"]),
    ("how are incremental text document changes applied", ["workspace/text_document.py"]),
    ("how are file URIs turned into paths on Windows", ["uris.py"]),
    ("how are work done progress begin, report and end notifications sent", ["progress.py"]),
    ("how are the server capabilities computed from the registered features",
     ["capabilities.py"]),
    ("where are feature handlers and commands registered with decorators",
     ["feature_manager.py", "server.py"]),
    ("how are workspace folders added and removed", ["workspace/workspace.py"]),
]


def package_dir(module: object) -> Path:
    return Path(str(getattr(module, "__file__", ""))).parent


def question_sets() -> dict[str, tuple[Path, list[Question]]]:
    return {
        "pytest": (package_dir(_pytest), PYTEST),
        "httpx": (package_dir(httpx), HTTPX),
        "aiohttp": (package_dir(aiohttp), AIOHTTP),
        "stdlib": (Path(sysconfig.get_paths()["stdlib"]), STDLIB),
    }


def held_out_sets() -> dict[str, tuple[Path, list[Question]]]:
    return {"jsonschema": (package_dir(jsonschema), JSONSCHEMA),
            "pygls": (package_dir(pygls), PYGLS)}
