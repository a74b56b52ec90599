#!/usr/bin/env bash
# Installs code-server (VS Code as a Node server) for the integration and e2e test suites.
# Idempotent and fast when already done. Prints the path of the code-server binary as its last
# line of standard output; everything else goes to standard error.
#
#   CNN_LENS_CODE_SERVER_DIR   install folder (default: $HOME/.cache/cnn-lens/code-server)
#   TMPDIR                     where @vscode/ripgrep looks for its cached archive (default /tmp)
#
# See ../shared/README.md, "A real VS Code on this machine: code-server", for why each step.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
DIR="${CNN_LENS_CODE_SERVER_DIR:-$HOME/.cache/cnn-lens/code-server}"
BIN="$DIR/node_modules/.bin/code-server"
STAMP="$DIR/.installed-$CODE_SERVER_VERSION"
log() { echo "[setup-code-server] $*" >&2; }

if [ -f "$STAMP" ] && [ -x "$BIN" ]; then
  log "code-server $CODE_SERVER_VERSION already installed in $DIR"
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
  npm_config_yes=true npm_config_unsafe_perm=true npm_config_nodedir=/usr \
    npm install --no-audit --no-fund --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
)
[ -x "$BIN" ] || { log "code-server binary missing after install: $BIN"; exit 1; }
"$BIN" --version >&2
touch "$STAMP"
log "installed in $(( $(date +%s) - start )) s"
echo "$BIN"
