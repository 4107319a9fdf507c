#!/usr/bin/env bash
# Run the examples as a user would, against peers (our raw client and a
# Python socket client), and check graceful shutdown on SIGTERM/SIGINT.
set -euo pipefail
cd "$(dirname "$0")/.."
# tls-openssl too: the TLS examples run on both backends (--tls-lib).
cargo build -q --examples --features tls-openssl
EX=target/debug/examples
TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

# Start a server example on a free port; sets PORT and PID.
start() {
    local name=$1; shift
    "$EX/$name" --port 0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 100); do
        if grep -q '^listening on ' "$TMP/$name.out"; then break; fi
        sleep 0.05
    done
    PORT=$(sed -n 's#^listening on [a-z]*://[^ ]*:\([0-9]*\)/$#\1#p' "$TMP/$name.out")
    [ -n "$PORT" ] || { echo "$name did not announce a port"; cat "$TMP/$name.err"; exit 1; }
    echo "$name: $(head -1 "$TMP/$name.out")"
}

# Stop a server with a signal and require a clean exit.
stop() {
    local sig=$1
    kill "-$sig" "$PID"
    local rc=0
    wait "$PID" || rc=$?
    [ "$rc" = 0 ] || { echo "server exited $rc after SIG$sig (expected 0)"; exit 1; }
}

expect_eq() {
    [ "$1" = "$2" ] || { echo "expected: $2"; echo "got:      $1"; exit 1; }
}

start raw-echo-server
out=$("$EX/raw-client" --connect "127.0.0.1:$PORT" --send "hello lws")
expect_eq "$(echo "$out" | head -1)" "received 9 bytes: hello lws"
got=$(python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
data = bytes(range(256)) * 4096          # 1 MiB through the echo server
s.sendall(data)
buf = b""
while len(buf) < len(data):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
print("ok" if buf == data else "mismatch %d" % len(buf))
PY
)
expect_eq "$got" "ok"
stop TERM
grep -q '^stopped: ' "$TMP/raw-echo-server.out" || { echo "no graceful stop line"; exit 1; }

"$EX/raw-echo-server" --unix "$TMP/echo.sock" >"$TMP/unix.out" &
PID=$!; PIDS+=("$PID")
for _ in $(seq 100); do [ -S "$TMP/echo.sock" ] && break; sleep 0.05; done
out=$("$EX/raw-client" --connect "unix:$TMP/echo.sock" --send "over unix")
expect_eq "$(echo "$out" | head -1)" "received 9 bytes: over unix"
stop INT
[ ! -e "$TMP/echo.sock" ] || { echo "unix socket file left behind"; exit 1; }

start adopt-socket
out=$("$EX/raw-client" --connect "127.0.0.1:$PORT" --send "adopted")
expect_eq "$(echo "$out" | head -1)" "received 7 bytes: adopted"
stop TERM

out=$(printf 'one\ntwo\n' | "$EX/raw-file" 2>"$TMP/file.err")
expect_eq "$out" "$(printf 'one\ntwo')"
grep -q 'end of file after 8 bytes' "$TMP/file.err"

start http-server --dir examples/www
body=$(curl -sS "http://127.0.0.1:$PORT/")
echo "$body" | grep -q "lws-rs is serving this page" || { echo "http-server: wrong body"; exit 1; }
out=$(curl -sS --data-binary @Cargo.toml "http://127.0.0.1:$PORT/upload")
expect_eq "$out" "received $(stat -c %s Cargo.toml) bytes"
out=$("$EX/http-client" --url "http://127.0.0.1:$PORT/upload" --data "twelve bytes")
echo "$out" | grep -q "^received 12 bytes" || { echo "http-client: $out"; exit 1; }
echo "$out" | head -1 | grep -q "^HTTP/1.1 200 OK" || { echo "http-client status: $out"; exit 1; }
# Methods are the library's: 501 for unknown (and lower-case) methods,
# 405 for the others on a served file, on both HTTP versions.
for v in --http1.1 --http2-prior-knowledge; do
    for m in BREW:501 get:501 DELETE:405 OPTIONS:204; do
        code=$(curl -sS "$v" -o /dev/null -w '%{http_code}' -X "${m%%:*}" "http://127.0.0.1:$PORT/")
        expect_eq "$code" "${m##*:}"
    done
done
stop TERM

start https-server
CA=$(sed -n 's/.*--cacert \(.*\)$/\1/p' "$TMP/https-server.err")
body=$(curl -sS --cacert "$CA" --resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/")
echo "$body" | grep -q "lws-rs is serving this page" || { echo "https-server: wrong body"; exit 1; }
stop INT
rm -f "$CA"

start https-server --tls-lib openssl
CA=$(sed -n 's/.*--cacert \(.*\)$/\1/p' "$TMP/https-server.err")
log=$(curl -sS -v --cacert "$CA" --resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/" 2>&1)
echo "$log" | grep -q "lws-rs is serving this page" || { echo "https-server (openssl): $log"; exit 1; }
echo "$log" | grep -q "ALPN: server accepted h2" || { echo "https-server (openssl) ALPN: $log"; exit 1; }
stop INT
rm -f "$CA"

# wss: an OpenSSL server, a rustls client (and the reverse pairing in the
# TLS backend suite).
start ws-echo-server --tls --tls-lib openssl
CA=$(sed -n 's/.*--cacert \(.*\)$/\1/p' "$TMP/ws-echo-server.err")
out=$("$EX/ws-client" --tls-lib rustls --cacert "$CA" --url "wss://localhost:$PORT/x" --send "wss across backends")
echo "$out" | grep -q "^received text: wss across backends" || { echo "ws-client (wss): $out"; exit 1; }
stop TERM
rm -f "$CA"

start ws-echo-server
out=$("$EX/ws-client" --url "ws://127.0.0.1:$PORT/any" --send "ws hello")
echo "$out" | grep -q "^received text: ws hello" || { echo "ws-client: $out"; exit 1; }
echo "$out" | grep -q "^closed: 1000" || { echo "ws-client close: $out"; exit 1; }
stop TERM

start ws-chat-server
got=$(python3 - "$PORT" <<'PY'
import asyncio, sys, websockets
async def main():
    u = "ws://127.0.0.1:%s/" % sys.argv[1]
    async with websockets.connect(u, subprotocols=["chat"]) as a, websockets.connect(u, subprotocols=["chat"]) as b:
        await a.send("hi all")
        while True:
            if await asyncio.wait_for(b.recv(), 5) == "hi all":
                print("broadcast ok"); return
asyncio.run(main())
PY
)
expect_eq "$got" "broadcast ok"
curl -sS "http://127.0.0.1:$PORT/" | grep -q "lws-rs chat" || { echo "chat page missing"; exit 1; }
stop TERM

if "$EX/raw-client" --connect 127.0.0.1:1 >/dev/null 2>"$TMP/refused.err"; then
    echo "raw-client to a closed port should fail"; exit 1
fi
grep -q 'connect failed' "$TMP/refused.err"

# mqtt-client against a mosquitto broker on loopback (its own config).
MQ_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$MQ_PORT" >"$TMP/mosquitto.conf"
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$MOSQUITTO" -c "$TMP/mosquitto.conf" >"$TMP/mosquitto.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $MQ_PORT), 1)" 2>/dev/null && break
    sleep 0.05
done
out=$("$EX/mqtt-client" --url "mqtt://127.0.0.1:$MQ_PORT" --sub 'lws/#' --pub lws/example \
    --message "hello mqtt" --qos 2 --count 1)
echo "$out" | sed 's/^/mqtt-client: /'
echo "$out" | grep -qx 'lws/example hello mqtt' || { echo "mqtt-client did not receive its message"; exit 1; }
echo "$out" | grep -q '^published (packet ' || { echo "mqtt-client QoS 2 publish did not complete"; exit 1; }

# Foreign-loop examples: each runs to completion by itself inside a host
# loop and exits non-zero unless its checks held; the key lines must show.
run_foreign() {
    local name=$1 features=$2; shift 2
    local out
    out=$(cargo run -q --example "$name" --features "$features") || {
        echo "$name failed:"; echo "$out"; exit 1; }
    echo "$out" | sed "s/^/$name: /"
    for want in "$@"; do
        echo "$out" | grep -q -- "$want" || { echo "$name: missing '$want'"; exit 1; }
    done
}
run_foreign glib-foreign loop-glib "http GET / -> 200" "ws echo 3/3" \
    "its sources left on the host context: 0" "5 after it left"
run_foreign libuv-foreign loop-libuv "http GET / -> 200" "ws echo 3/3" \
    "its handles left on the host loop: 0" "fired 5 more times"
run_foreign calloop-foreign loop-calloop "http GET / -> 200" "ws echo 3/3" "fired 5 more times"
run_foreign adopt-into-host-loop loop-mio 'library replied: "hello lws"' \
    'host replied: "served by the host"' "registrations left after stop: 0"

echo "examples: all passed"
