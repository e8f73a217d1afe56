#!/usr/bin/env bash
# CI for the VS Code extension: install from the lockfile, type check and bundle, lint (and
# package.json's settings against schemas/settings.schema.json), test, package a .vsix.
# Runs offline but for the npm registry. `npm test` drives a real ren-lsp server: it needs a
# Python with ren-lsp (REN_LSP_PYTHON, else the repository's .venv that .ci/run makes, else
# python3), so run this after the Python setup.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== npm ci"
npm ci --no-audit --no-fund
echo "== build (tsc, esbuild)"
npm run build
echo "== lint (eslint, settings against the schema)"
npm run lint
echo "== test (vitest)"
npm test
echo "== package (vsce)"
rm -f ./*.vsix
npm run package
ls -l ./*.vsix
