#!/usr/bin/env bash
# Memcheck over the C-loop adapters in foreign mode: each adapter's
# tests/conformance_foreign.rs binary (attach to a host loop, serve real
# peers on loopback, tear down, the host loop keeps running) under
#   valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite
# Pass criterion per loop: the tests pass, 0 memcheck errors, 0 bytes
# definitely lost. "Possibly lost" and "still reachable" blocks are reported
# by valgrind but do not fail the step (GLib's type system and Rust's
# thread-locals keep one-time allocations until exit). No suppressions are
# needed today; add one (in a .supp file passed with --suppressions) only for
# a genuine third-party false positive, with a comment saying why it is one.
#
# Valgrind makes the code 20-50 times slower, so only a bounded set of
# scenarios runs (SCENARIOS below): every one attaches and tears down, and
# together they cover accept, read, write, writable interest, timers, the
# waker, adopted descriptors, client connects and HTTP/1, HTTP/2 and
# WebSocket serving. Left out are the load scenarios (1,000 connections,
# large buffered writes, output limits, graceful stop of a flood) and those
# that assert wall-clock bounds a slowed-down process cannot keep (timer
# lateness, idle timeout). Two loops run at a time (one per core).
#
# Environment: VALGRIND_LOOPS="glib libuv" to run some loops only;
# VALGRIND_JOBS (default 2) loops at a time. Logs: target/valgrind/.
set -euo pipefail
cd "$(dirname "$0")/.."

loops=(${VALGRIND_LOOPS:-glib libuv libevent libev sdevent uloop})
jobs=${VALGRIND_JOBS:-2}
SCENARIOS=(
    adopt_pipe_reads_until_eof
    adopt_udp_socket_echoes_datagrams
    adopt_with_read_buffer_sees_buffer_first
    client_connects_and_reports_errors
    client_connect_timeout
    close_inside_own_rx_callback
    close_other_connection_from_callback
    connection_timers_and_timeouts
    peer_reset_mid_write_closes_only_that_connection
    stale_token_is_rejected
    waker_wakes_from_another_thread
    writable_flow_control_one_event_per_request
    raw_echo_unix_socket
    http1_keepalive_50_connections
    websocket_echo_50_connections
    http2_20_connections_20_streams
)

out=target/valgrind
rm -rf "$out"
mkdir -p "$out"

# Build the test binaries and learn their paths from cargo's JSON output.
pkgs=()
for l in "${loops[@]}"; do pkgs+=(-p "lws-loop-$l"); done
cargo test --no-run --message-format=json "${pkgs[@]}" --test conformance_foreign >"$out/build.json"
python3 - "$out/build.json" >"$out/binaries" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") \
            and m["target"]["name"] == "conformance_foreign":
        # package_id: "path+file:///.../loops/glib#lws-loop-glib@0.1.0"
        name = m["package_id"].split("#")[1].split("@")[0]
        print(name.removeprefix("lws-loop-"), m["executable"])
EOF

# One loop: the scenario subset under memcheck. Valgrind's own report goes to
# $out/<loop>.vg.<pid>.log (one file per process: the tests fork `sh` and
# `python3` to look for peers), the test harness output to $out/<loop>.test.log.
run_loop() {
    local l=$1 bin
    bin=$(awk -v l="$l" '$1 == l {print $2}' "$out/binaries")
    [ -n "$bin" ] || { echo "valgrind: no conformance_foreign binary for $l" >"$out/$l.test.log"; return 1; }
    local t0=$SECONDS rc=0
    timeout 600 valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
        --error-exitcode=1 --num-callers=30 \
        --log-file="$out/$l.vg.%p.log" \
        "$bin" --test-threads=1 --exact "${SCENARIOS[@]}" >"$out/$l.test.log" 2>&1 || rc=$?
    echo "$rc $((SECONDS - t0))" >"$out/$l.status"
}
t0=$SECONDS
running=0
for l in "${loops[@]}"; do
    run_loop "$l" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

# Summary: one line per loop; any failure fails the step.
fail=0
for l in "${loops[@]}"; do
    read -r rc secs <"$out/$l.status" 2>/dev/null || { rc=missing; secs=?; }
    # The main process is the log with a leak summary (forked children that
    # exec another program leave a log without one).
    errors=0 definite=0
    for f in "$out/$l".vg.*.log; do
        [ -e "$f" ] || continue
        e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tr -d , | tail -1)
        d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -1)
        errors=$((errors + ${e:-0}))
        definite=$((definite + ${d:-0}))
    done
    tests=$(grep -E '^test result:' "$out/$l.test.log" | tail -1 || true)
    printf 'valgrind %-9s exit=%-3s %4ss  errors=%s  definitely-lost=%s bytes  %s\n' \
        "$l" "$rc" "$secs" "$errors" "$definite" "${tests:-no test result}"
    if [ "$rc" != 0 ] || [ "$errors" != 0 ] || [ "$definite" != 0 ]; then
        fail=1
        echo "---- $l: test output (tail) ----"
        tail -n 40 "$out/$l.test.log"
        echo "---- $l: memcheck report ----"
        for f in "$out/$l".vg.*.log; do sed -n '/^==[0-9]*== *$/!p' "$f" | sed -n '1,300p'; done
    fi
done
echo "valgrind: $((SECONDS - t0))s for ${#loops[@]} loops"
exit "$fail"
