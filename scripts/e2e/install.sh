#!/usr/bin/env bash
# Installs the real VS Code the e2e tests drive: code-server 4.100.3 (= VS Code 1.100.3, the last
# release whose engines.node allows Node 20) and Debian's Chromium for Playwright.
# Idempotent: a second run with everything present only checks versions. Usage: install.sh [DIR]
# (default .e2e/ in the repository). Needs root for apt; reaches only the npm registry and apt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:-$ROOT/.e2e}
mkdir -p "$DIR"; cd "$DIR"
export TMPDIR=$DIR/tmp; mkdir -p "$TMPDIR"

if ! command -v chromium >/dev/null || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq chromium libkrb5-dev >/dev/null
fi

CS=$DIR/node_modules/.bin/code-server
if [ ! -x "$CS" ] || ! XDG_CONFIG_HOME=$DIR/xdg XDG_DATA_HOME=$DIR/xdg "$CS" --version 2>/dev/null | grep -q '^4\.100\.3'; then
  # @vscode/ripgrep's postinstall downloads rg from GitHub, which is unreachable: seed its cache with
  # the binary shipped by the npm package @vscode/ripgrep-linux-x64.
  RGCACHE=$TMPDIR/vscode-ripgrep-cache-1.15.11
  mkdir -p rgpkg "$RGCACHE"
  if [ ! -f "$RGCACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ]; then
    (cd rgpkg && npm pack -s @vscode/ripgrep-linux-x64@1.18.0 >/dev/null && tar xzf vscode-ripgrep-linux-x64-1.18.0.tgz)
    tar czf "$RGCACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C rgpkg/package/bin rg
  fi
  [ -f package.json ] || echo '{"name":"feature-lens-e2e","private":true}' > package.json
  # unsafe_perm: code-server's postinstall refuses root otherwise; yes: node-pty's postinstall runs
  # npx; nodedir: native modules build against the local Node headers (no header download).
  npm_config_yes=true npm_config_unsafe_perm=true npm_config_nodedir=/usr \
    npm install --no-save --no-audit --no-fund code-server@4.100.3 playwright-core@1
fi
XDG_CONFIG_HOME=$DIR/xdg XDG_DATA_HOME=$DIR/xdg "$CS" --version
