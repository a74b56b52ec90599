#!/usr/bin/env bash
# Installs code-server (VS Code as a Node server) for the integration and e2e test suites.
# Idempotent and fast when already done. Prints the path of the code-server binary as its last
# line of standard output; everything else goes to standard error.
#
#   CNN_LENS_CODE_SERVER_DIR   install folder (default: ${XDG_CACHE_HOME:-$HOME/.cache}/cnn-lens/code-server)
#   TMPDIR                     where @vscode/ripgrep looks for its cached archive (default /tmp)
#
# See ../shared/README.md, "A real VS Code on this machine: code-server", for why each step.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
CACHE_HOME="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}"
DIR="${CNN_LENS_CODE_SERVER_DIR:-$CACHE_HOME/cnn-lens/code-server}"
BIN="$DIR/node_modules/.bin/code-server"
STAMP="$DIR/.installed-$CODE_SERVER_VERSION"
log() { echo "[setup-code-server] $*" >&2; }

done_already() { [ -f "$STAMP" ] && [ -x "$BIN" ]; }
if done_already; then
  log "code-server $CODE_SERVER_VERSION already installed in $DIR"
  echo "$BIN"
  exit 0
fi

# One installer at a time (two test runs starting together): the second waits, then reuses.
mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock 9
if done_already; then
  log "code-server $CODE_SERVER_VERSION installed meanwhile in $DIR"
  echo "$BIN"
  exit 0
fi

# 1. System packages: the native modules' build dependencies, ripgrep, and the browser the e2e
#    tests drive. Skip apt entirely when every package is already installed.
PACKAGES=(libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev ripgrep chromium build-essential python3 pkg-config)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi

# 2. @vscode/ripgrep downloads rg from GitHub at install time unless it finds this cached
#    archive; Debian's rg at the archive root satisfies it.
RG_CACHE="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
RG_TAR="$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$RG_TAR" ]; then
  log "caching Debian's rg as $RG_TAR"
  mkdir -p "$RG_CACHE"
  tmp="$(mktemp -d)"
  cp /usr/bin/rg "$tmp/rg"
  tar -czf "$RG_TAR.part" -C "$tmp" rg
  mv "$RG_TAR.part" "$RG_TAR"
  rm -rf "$tmp"
fi

# 3. code-server itself, in its own folder outside the repo's node_modules.
log "npm install code-server@$CODE_SERVER_VERSION into $DIR (about 80 s)"
mkdir -p "$DIR"
[ -f "$DIR/package.json" ] || echo '{ "name": "cnn-lens-code-server", "private": true }' > "$DIR/package.json"
start=$(date +%s)
(
  cd "$DIR"
  # code-server's postinstall runs `npm install` in lib/vscode (native modules: node-pty,
  # kerberos, spdlog, ...); allow those scripts explicitly in case npm's allowScripts policy
  # ever blocks unreviewed ones by default. Scoped to this cache folder only.
  npm_config_yes=true npm_config_unsafe_perm=true npm_config_nodedir=/usr \
  npm_config_dangerously_allow_all_scripts=true \
    npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
)
[ -x "$BIN" ] || { log "code-server binary missing after install: $BIN"; exit 1; }
# A complete install has the native modules and ripgrep that postinstall builds and fetches.
VSCODE_DIR="$DIR/node_modules/code-server/lib/vscode"
for f in node_modules/node-pty/build/Release/pty.node node_modules/@vscode/ripgrep/bin/rg; do
  [ -e "$VSCODE_DIR/$f" ] || { log "incomplete install: $VSCODE_DIR/$f is missing"; exit 1; }
done
# (No `code-server --version` here: without --config it writes ~/.config/code-server/config.yaml.)
log "code-server $(node -p "require('$DIR/node_modules/code-server/package.json').version")"
touch "$STAMP"
log "installed in $(( $(date +%s) - start )) s"
echo "$BIN"
