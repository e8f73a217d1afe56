"""The architecture analysis of Go and TypeScript/JavaScript repositories the tests write: module
paths with the root package, test files apart, the extension and index rules, tsconfig paths,
``import()``, type-only imports, built-ins, and the manifests."""

from __future__ import annotations

from pathlib import Path

from ren_lsp.architecture.report import render
from tests.unit.test_architecture import analyse, external, pairs

GO_MOD = """module example.com/tool

go 1.22

require (
\tgithub.com/spf13/cobra v1.8.0
\tgithub.com/unused/thing v0.1.0
\texample.com/tool v0.0.0
\tgolang.org/x/sys v0.20.0 // indirect
)
"""


def test_go_resolves_the_module_root_package_and_keeps_tests_apart(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {
        "go.mod": GO_MOD,
        "tool.go": "package tool\n\nfunc Run() {}\n",
        "options.go": "package tool\n\nimport \"example.com/tool/internal/x\"\n",
        "tool_test.go": "package tool\n\nimport \"testing\"\n",
        "internal/x/x.go": "package x\n",
        "cmd/tool/main.go": 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/tool"\n'
                            '\t"github.com/spf13/cobra/doc"\n)\n\nfunc main() {}\n',
        "cmd/tool/flags.go": "package main\n",
    })
    assert pairs(analysis) == {
        ("cmd/tool/main.go", "tool.go"), ("cmd/tool/main.go", "options.go"),  # root package
        ("options.go", "internal/x/x.go")}  # never tool_test.go
    main_edges = {e.target: e.line for e in analysis.edges if e.source == "cmd/tool/main.go"}
    assert main_edges == {"tool.go": 6, "options.go": 6}
    assert external(analysis, "fmt") == ("stdlib", True)
    assert external(analysis, "testing") == ("stdlib", True)
    assert external(analysis, "github.com/spf13/cobra") == ("third-party", True)
    assert "example.com/tool" not in {x.name for x in analysis.externals}
    # neither indirect requires nor the module itself (it resolves to its files)
    assert analysis.declared_unused == ("github.com/unused/thing",)
    assert [(p.file, p.why) for p in analysis.entry_points] == [
        ("cmd/tool/main.go", "Go `package main` (the command in `cmd/tool`)")]
    hubs = render(analysis).split("## Most connected modules")[1]
    assert "- `./` (Go package, 2 files): imports 1, imported by 1" in hubs  # packages, not files
    assert "tool.go" not in hubs


def test_typescript_relative_index_extension_paths_and_dynamic_imports(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {
        "package.json": '{"name": "web", "main": "dist/index.js", "bin": {"web": "bin/cli.js"},'
                        ' "dependencies": {"react": "^18", "left-pad": "1"},'
                        ' "devDependencies": {"@types/vscode": "1"}}',
        "tsconfig.json": '{\n  // comments are allowed\n  "compilerOptions": {"baseUrl": ".",'
                         ' "paths": {"@app/*": ["src/app/*"]},},\n}\n',
        "src/index.ts": 'import {b} from "./b";\nimport u from "./utils";\nimport "./c.js";\n'
                        'export * from "./d";\nimport type {T} from "./types";\n'
                        'const lazy = () => import("./lazy");\nimport {h} from "@app/home";\n'
                        'import fs from "fs";\nimport {join} from "node:path";\n'
                        'import React from "react";\nimport _ from "lodash/fp";\n'
                        'import * as vscode from "vscode";\nimport {q} from "src/q";\n',
        "src/b.ts": "export const b = 1;\n",
        "src/utils/index.ts": "export default 1;\n",
        "src/c.ts": "",
        "src/d.tsx": "",
        "src/types.ts": "export type T = number;\n",
        "src/lazy.ts": "",
        "src/app/home.ts": "",
        "src/q.ts": "",
        "bin/cli.js": 'const web = require("../src/b");\nfunction later() { require("./late") }\n',
        "bin/late.js": "",
        "build/generated.ts": "export const g = 1;\n",
    })
    edges = {(e.source, e.target): e.kind for e in analysis.edges}
    assert edges == {
        ("src/index.ts", "src/b.ts"): "runtime", ("src/index.ts", "src/utils/index.ts"): "runtime",
        ("src/index.ts", "src/c.ts"): "runtime", ("src/index.ts", "src/d.tsx"): "runtime",
        ("src/index.ts", "src/types.ts"): "type", ("src/index.ts", "src/lazy.ts"): "lazy",
        ("src/index.ts", "src/app/home.ts"): "runtime", ("src/index.ts", "src/q.ts"): "runtime",
        ("bin/cli.js", "src/b.ts"): "runtime", ("bin/cli.js", "bin/late.js"): "lazy"}
    assert external(analysis, "fs") == ("stdlib", True)
    assert external(analysis, "path") == ("stdlib", True)
    assert external(analysis, "react") == ("third-party", True)
    assert external(analysis, "lodash") == ("third-party", False)
    assert external(analysis, "vscode") == ("third-party", True)  # declared by its types
    assert analysis.declared_unused == ("left-pad",)
    assert {(p.file, p.why) for p in analysis.entry_points} == {
        ("bin/cli.js", "package.json `bin.web`"), ("src/index.ts", "package.json `main`")}
    assert any(n.startswith("`build/` (1 code files) is left out") for n in analysis.notes)


def test_a_workspace_package_resolves_by_its_name(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {
        "packages/core/package.json": '{"name": "@acme/core", "source": "src/main.ts"}',
        "packages/core/src/main.ts": "export const x = 1;\n",
        "packages/core/src/extra.ts": "",
        "packages/app/package.json": '{"name": "@acme/app", "dependencies": '
                                     '{"@acme/core": "*"}}',
        "packages/app/index.ts": 'import {x} from "@acme/core";\nimport "@acme/core/extra";\n',
    })
    assert pairs(analysis) == {("packages/app/index.ts", "packages/core/src/main.ts"),
                               ("packages/app/index.ts", "packages/core/src/extra.ts")}
    assert analysis.externals == ()


def test_other_languages_are_marked_approximate(tmp_path: Path) -> None:
    analysis = analyse(tmp_path, {
        "src/lib.rs": "mod parser;\nuse std::collections::HashMap;\nuse serde::Serialize;\n",
        "src/parser.rs": "pub fn parse() {}\n",
    })
    assert pairs(analysis) == {("src/lib.rs", "src/parser.rs")}
    assert all(f.approximate for f in analysis.files.values())
    assert external(analysis, "std") == ("stdlib", True)
    assert external(analysis, "serde")[0] == "third-party"
    assert "> Approximate: the imports of rust files are matched by path" in render(analysis)
    assert analysis.to_json()["approximate"] == ["src/lib.rs", "src/parser.rs"]
