#!/usr/bin/env bash
# Installs what the real-VS-Code tests need, idempotently: Debian's chromium, code-server
# 4.100.3 (VS Code 1.100.3, the last release for Node 20) from npm, and Playwright for Python
# (driving Debian's chromium; no browser download). Run as root on Debian (CI is); a step that
# cannot install fails loudly.
#
#   tests/vscode/setup.sh [PYTHON]     # PYTHON: the venv's python (default .venv/bin/python)
#
# code-server lands in $REN_E2E_TOOLS (default ~/.cache/ren-lsp-e2e), kept between runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${1:-.venv/bin/python}
CS_VERSION=4.100.3
TOOLS=${REN_E2E_TOOLS:-$HOME/.cache/ren-lsp-e2e}
CS_DIR=$TOOLS/code-server-$CS_VERSION
start=$SECONDS
step() { echo "== vscode e2e setup: $1 ($((SECONDS - start)) s)"; }

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v rg >/dev/null || need_apt+=(ripgrep)
if [ ! -x "$CS_DIR/node_modules/.bin/code-server" ]; then
  # code-server's native modules build from source: compilers, Node's headers, kerberos.
  command -v g++ >/dev/null || need_apt+=(build-essential)
  command -v pkg-config >/dev/null || need_apt+=(pkg-config)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  step "apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$CS_DIR/node_modules/.bin/code-server" ]; then
  step "npm install code-server@$CS_VERSION"
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  # @vscode/ripgrep's postinstall downloads rg from GitHub: seed its cache with Debian's rg
  # (the file name follows the ripgrep version code-server 4.100.3 pins).
  rgcache=$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11
  mkdir -p "$rgcache" "$CS_DIR/rg" && cp "$(command -v rg)" "$CS_DIR/rg/rg"
  tar czf "$rgcache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$CS_DIR/rg" rg
  (
    cd "$CS_DIR"
    echo '{"name": "ren-lsp-e2e-code-server", "private": true}' > package.json
    # npm_config_yes: node-pty's postinstall runs "npx node-gyp"; --nodedir: Debian's headers.
    npm_config_yes=true npm install --no-audit --no-fund --foreground-scripts --unsafe-perm \
      --nodedir=/usr "code-server@$CS_VERSION" > install.log 2>&1 \
      || { tail -40 install.log; echo "code-server did not install (log: $CS_DIR/install.log)" >&2; exit 1; }
  )
fi
# Its own config folder: --version writes a default config.yaml there.
XDG_CONFIG_HOME=$(mktemp -d) "$CS_DIR/node_modules/.bin/code-server" --version | tail -1

step "playwright (Python)"
"$PY" -m pip install --quiet -e '.[vscode-e2e]'
step done
