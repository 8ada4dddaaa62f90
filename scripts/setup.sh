#!/usr/bin/env bash
# Install everything Vigil needs on a fresh machine, idempotently: Debian's
# Mosquitto, a .venv with Vigil and its dev tools, and InfluxDB OSS 2.7 (built
# once per machine from its Go module, cached outside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*" >&2; }

# --- Mosquitto (Debian package) -------------------------------------------
if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
  say "installing mosquitto from Debian's packages"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mosquitto mosquitto-clients >/dev/null
fi

# --- PostgreSQL (Debian package): the alert store's tests run on it too ------
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${VIGIL_TEST_POSTGRES_URL:-}" ]; then
  say "installing postgresql from Debian's packages (for the alert store's tests)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

# --- Chromium (Debian package): the web console's browser tests ------------
if [ ! -x /usr/bin/chromium ]; then
  say "installing chromium from Debian's packages (for the web console's browser tests)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

# --- Python virtual environment --------------------------------------------
PY="${PYTHON:-python3}"
stamp=".venv/.vigil-installed"
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing vigil and its dependencies into .venv"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[dev,bench]'
  echo "$want" > "$stamp"
fi

# --- InfluxDB OSS 2.7 --------------------------------------------------------
if [ -n "${VIGIL_INFLUX_URL:-}" ]; then
  say "using the InfluxDB at VIGIL_INFLUX_URL"
elif command -v influxd >/dev/null && influxd version 2>/dev/null | grep -q 'InfluxDB v2\.'; then
  say "using $(command -v influxd) ($(influxd version | cut -d' ' -f2))"
else
  bash scripts/build-influxdb.sh >/dev/null
fi
say "ready"
