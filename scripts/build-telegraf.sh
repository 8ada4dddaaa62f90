#!/usr/bin/env bash
# Build Telegraf from its Go module with only the plugins `vigil bench compare`
# needs (MQTT in, json_v2 parser, InfluxDB v2 out), and cache the binary
# outside the repository, keyed by version, as build-influxdb.sh does.
# Prints the path of telegraf on its last line.
set -euo pipefail

VERSION="${VIGIL_TELEGRAF_VERSION:-1.37.2}"
# Telegraf's custom-build tags: `custom` drops every plugin not named.
TAGS="custom,inputs.mqtt_consumer,outputs.influxdb_v2,parsers.json_v2"
CACHE_ROOT="${VIGIL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}"
DEST="$CACHE_ROOT/telegraf-$VERSION"
BIN="$DEST/telegraf"

NAME="telegraf"
cached() { [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "Telegraf $VERSION"; }
# Cached: print it and stop; else one build at a time per machine.
source "$(dirname "$0")/cached-build.sh"

command -v go >/dev/null || { log "missing toolchain: go"; exit 1; }

WORK="$DEST/build"
rm -rf "$WORK"
mkdir -p "$WORK"
started=$(date +%s)
log "building telegraf v$VERSION with $(go version | awk '{print $3}'), tags $TAGS (takes a few minutes)"

( while sleep 60; do log "still building... $(( $(date +%s) - started ))s"; done ) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT

# Telegraf's go.mod has no replace directives, so `go install pkg@version`
# builds it with exactly the dependency versions it pins. CGO off, as
# Telegraf's own release builds do.
INTERNAL=github.com/influxdata/telegraf/internal
GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$WORK" go install -tags "$TAGS" \
  -ldflags "-s -w -X $INTERNAL.Version=$VERSION -X $INTERNAL.Commit=gomodule -X $INTERNAL.Branch=release" \
  "github.com/influxdata/telegraf/cmd/telegraf@v$VERSION"

mv "$WORK/telegraf" "$BIN"
rm -rf "$WORK"
log "built $("$BIN" --version) in $(( $(date +%s) - started ))s"
echo "$BIN"
