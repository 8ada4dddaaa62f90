# Sourced by the build-*.sh scripts, after they set NAME, DEST and BIN and
# define `cached` (is BIN there, and the wanted version?). Prints BIN and ends
# the script when it is cached; otherwise takes the machine-wide build lock,
# waiting for another build of the same thing to finish first, and returns.
log() { printf '[%s %s] %s\n' "$NAME" "$(date -u +%H:%M:%S)" "$*" >&2; }

if cached; then
  log "cached: $BIN"
  echo "$BIN"
  exit 0
fi

mkdir -p "$DEST"
exec 9>"$DEST/.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi
if cached; then
  echo "$BIN"
  exit 0
fi
