#!/usr/bin/env bash
# Start or stop LocalStack directly on the host (no Docker), in its own virtualenv.
# Pins come from shared/reference/tooling-facts.md: localstack-core 4.10.0 is the newest
# that runs on Python 3.11; the extra pins keep its dependencies importable.
#   scripts/localstack.sh up|down|status
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/localstack-venv
STATE=.kmslab/localstack
PORT=${KMSLAB_LOCALSTACK_PORT:-4599}
PIDFILE=$STATE/pid
PY=${PYTHON:-python3}

install() {
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import localstack' 2>/dev/null; then
    echo "localstack: installing localstack-core into $VENV (first run only)" >&2
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q 'localstack-core[runtime]==4.10.0' 'cbor2<6' \
      'cryptography==46.0.7' 'pyopenssl==25.3.0' 'service-identity<26.1'
  fi
}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

healthy() {
  "$VENV/bin/python" - "$PORT" <<'PY' 2>/dev/null
import json, sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/_localstack/health", timeout=2) as r:
    services = json.load(r).get("services", {})
sys.exit(0 if services.get("kms") in ("available", "running") else 1)
PY
}

case "${1:-}" in
  up)
    install
    mkdir -p "$STATE/data"
    if running && healthy; then echo "localstack: already running on http://127.0.0.1:$PORT"; exit 0; fi
    GATEWAY_LISTEN=127.0.0.1:$PORT SERVICES=kms,iam,sts,logs,ec2,s3,organizations,cloudtrail \
      DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 DNS_ADDRESS=0 \
      FILESYSTEM_ROOT="$PWD/$STATE/data" LOCALSTACK_VOLUME_DIR="$PWD/$STATE/data" \
      nohup "$VENV/bin/python" -m localstack.runtime.main > "$STATE/log" 2>&1 &
    echo $! > "$PIDFILE"
    for _ in $(seq 1 120); do
      if healthy; then echo "localstack: ready on http://127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"; exit 0; fi
      if ! running; then echo "localstack: exited during start; see $STATE/log" >&2; tail -5 "$STATE/log" >&2; exit 3; fi
      sleep 0.5
    done
    echo "localstack: not healthy after 60 s; see $STATE/log" >&2; exit 3 ;;
  down)
    if running; then
      pid=$(cat "$PIDFILE"); kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
      echo "localstack: stopped"
    else
      echo "localstack: not running"
    fi
    rm -f "$PIDFILE" ;;
  status)
    if running && healthy; then echo "localstack: running on http://127.0.0.1:$PORT"; else echo "localstack: not running"; exit 1; fi ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
