#!/usr/bin/env bash
# Autobahn testsuite (0.8.2, Python 2.7) against lws-rs, all listeners on
# 127.0.0.1:
#   server: wstest fuzzingclient -> examples/ws-echo-server
#   client: wstest fuzzingserver <- examples/ws-autobahn-client
# AUTOBAHN_CASES=core (1-11, default) or all (1-13, adds ~10 minutes per side).
# AUTOBAHN_SIDES="server client" (default both).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
CASES=${AUTOBAHN_CASES:-core}
SIDES=${AUTOBAHN_SIDES:-server client}
VENV=${AUTOBAHN_VENV:-$ROOT/target/autobahn-venv}
OUT=$ROOT/target/autobahn
mkdir -p "$OUT"

py27=""
for c in "$(pyenv root 2>/dev/null)/versions/2.7.18/bin/python" python2.7 python2; do
    if [ -x "$c" ] || command -v "$c" >/dev/null 2>&1; then py27=$c; break; fi
done
[ -n "$py27" ] || { echo "autobahn: Python 2.7 not found (pyenv 2.7.18)"; exit 1; }
if [ ! -x "$VENV/bin/wstest" ]; then
    python3 -m pip install -q "virtualenv<20.22"
    python3 -m virtualenv -q -p "$py27" "$VENV"
    "$VENV/bin/pip" install -q autobahntestsuite==0.8.2
fi

case "$CASES" in
    core) list='"1.*","2.*","3.*","4.*","5.*","6.*","7.*","8.*","9.*","10.*","11.*"' ;;
    all) list='"*"' ;;
    *) list=$CASES ;;
esac

cargo build --release -q --example ws-echo-server --example ws-autobahn-client
EX=$ROOT/target/release/examples
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
status=0

if [[ " $SIDES " == *" server "* ]]; then
    "$EX/ws-echo-server" --port 0 >"$OUT/server.out" 2>"$OUT/server.err" &
    PIDS+=($!)
    for _ in $(seq 100); do grep -q '^listening on' "$OUT/server.out" && break; sleep 0.05; done
    port=$(sed -n 's#^listening on ws://127.0.0.1:\([0-9]*\)/$#\1#p' "$OUT/server.out")
    cat >"$OUT/fuzzingclient.json" <<JSON
{"outdir": "$OUT/server-reports", "servers": [{"agent": "lws-rs", "url": "ws://127.0.0.1:$port"}],
 "cases": [$list], "exclude-cases": [], "exclude-agent-cases": {}}
JSON
    echo "autobahn: fuzzingclient -> ws-echo-server on port $port ($CASES)"
    (cd "$OUT" && "$VENV/bin/python" "$ROOT/interop/autobahn/wstest_local.py" -m fuzzingclient -s fuzzingclient.json >"$OUT/fuzzingclient.log" 2>&1)
    python3 "$ROOT/interop/autobahn/check.py" "$OUT/server-reports/index.json" || status=1
fi

if [[ " $SIDES " == *" client "* ]]; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat >"$OUT/fuzzingserver.json" <<JSON
{"url": "ws://127.0.0.1:$port", "outdir": "$OUT/client-reports",
 "cases": [$list], "exclude-cases": [], "exclude-agent-cases": {}}
JSON
    (cd "$OUT" && exec "$VENV/bin/python" "$ROOT/interop/autobahn/wstest_local.py" -m fuzzingserver -s fuzzingserver.json --webport 0 >"$OUT/fuzzingserver.log" 2>&1) &
    PIDS+=($!)
    for _ in $(seq 200); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break; sleep 0.1; done
    echo "autobahn: ws-autobahn-client -> fuzzingserver on port $port ($CASES)"
    "$EX/ws-autobahn-client" --url "ws://127.0.0.1:$port" >"$OUT/client.out" 2>&1
    python3 "$ROOT/interop/autobahn/check.py" "$OUT/client-reports/index.json" || status=1
fi
exit $status
