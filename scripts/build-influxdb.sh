#!/usr/bin/env bash
# Build InfluxDB OSS 2.x from its Go module with this machine's Go and Rust
# toolchains, and cache the binary outside the repository, keyed by version.
# InfluxDB has no Debian package and no reachable download here, so this is the
# only way to get a real one. Prints the path of influxd on its last line.
set -euo pipefail

VERSION="${VIGIL_INFLUXDB_VERSION:-2.7.12}"
CACHE_ROOT="${VIGIL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}"
DEST="$CACHE_ROOT/influxdb-$VERSION"
BIN="$DEST/influxd"

NAME="influxdb"
cached() { [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -q "InfluxDB v$VERSION"; }
# Cached: print it and stop; else one build at a time per machine.
source "$(dirname "$0")/cached-build.sh"

for tool in go cargo rustup; do
  command -v "$tool" >/dev/null || { log "missing toolchain: $tool"; exit 1; }
done

WORK="$DEST/build"
rm -rf "$WORK"
mkdir -p "$WORK/bin"
cd "$WORK"
started=$(date +%s)

# The influxdb module carries a replace directive, which `go install pkg@v`
# refuses; a throwaway module that requires it (with the same replace) works.
MODDIR=$(go mod download -json "github.com/influxdata/influxdb/v2@v$VERSION" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
log "module source: $MODDIR"
go mod init vigil.local/influxdb-build >/dev/null 2>&1
go mod edit -require="github.com/influxdata/influxdb/v2@v$VERSION"
# Copy every replace directive of influxdb's own go.mod.
go mod edit -json "$MODDIR/go.mod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    old = r["Old"]["Path"] + ("@" + r["Old"]["Version"] if r["Old"].get("Version") else "")
    new = r["New"]["Path"] + ("@" + r["New"]["Version"] if r["New"].get("Version") else "")
    print(f"-replace={old}={new}")
' | xargs -r go mod edit
# Pin influxdb's dependency versions exactly as its go.mod does.
cp "$MODDIR/go.sum" go.sum
go mod edit -json "$MODDIR/go.mod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Require") or []:
    print("-require=" + r["Path"] + "@" + r["Version"])
' | xargs -r go mod edit
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=1

PKGCFG_VERSION=$(go mod edit -json "$MODDIR/go.mod" | python3 -c '
import json, sys
print(next(r["Version"] for r in json.load(sys.stdin)["Require"] if r["Path"] == "github.com/influxdata/pkg-config"))')
log "building influxdata/pkg-config $PKGCFG_VERSION (builds libflux with cargo)"
go build -o "$WORK/bin/pkg-config" github.com/influxdata/pkg-config

# flux pins an old Rust toolchain that rustup cannot download here; use the one
# installed, and keep flux's deny(warnings) from failing on a newer compiler.
RUST_TOOLCHAIN=$(rustup toolchain list | awk '/\(default\)/ {print $1; exit}')
[ -n "$RUST_TOOLCHAIN" ] || RUST_TOOLCHAIN=stable
# RUSTFLAGS does not reach host artifacts when cargo is given --target (flux-core
# is built for the host, for a build script), so a rustc wrapper caps lints.
cat > "$WORK/bin/rustc-cap-lints" <<'WRAP'
#!/bin/sh
case "$*" in *--cap-lints*) exec "$@" ;; *) exec "$@" --cap-lints=warn ;; esac
WRAP
chmod +x "$WORK/bin/rustc-cap-lints"
export PKG_CONFIG="$WORK/bin/pkg-config" RUSTUP_TOOLCHAIN="$RUST_TOOLCHAIN" \
  RUSTFLAGS="--cap-lints=warn" RUSTC_WRAPPER="$WORK/bin/rustc-cap-lints"
log "building influxd v$VERSION with $(go version | awk '{print $3}') and rust $RUST_TOOLCHAIN (first build takes 10-30 min)"

# Progress: the Go build is silent for a long time, so report every minute.
( while sleep 60; do log "still building... $(( $(date +%s) - started ))s"; done ) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT

# No `assets` tag: Vigil does not need the web UI.
go build -tags "sqlite_foreign_keys,sqlite_json" -o "$WORK/influxd" \
  -ldflags "-X main.version=v$VERSION -X main.commit=gomodule -X main.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  github.com/influxdata/influxdb/v2/cmd/influxd

mv "$WORK/influxd" "$BIN"
cd "$DEST"
rm -rf "$WORK"
log "built $("$BIN" version) in $(( $(date +%s) - started ))s"
echo "$BIN"
