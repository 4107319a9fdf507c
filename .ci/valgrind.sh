#!/usr/bin/env bash
# Memcheck over the C-loop adapters in foreign mode: each adapter's
# tests/conformance_foreign.rs binary (attach to a host loop, serve real
# peers on loopback, tear down, the host loop keeps running), and its
# tests/reentrancy.rs binary where it has one (a host re-entering its loop
# from inside the library), under
#   valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite
# Pass criterion per loop: the tests pass, 0 memcheck errors, 0 bytes
# definitely lost. "Possibly lost" and "still reachable" blocks are counted
# in valgrind's leak summary but neither listed nor failing the step (GLib's
# type system and Rust's thread-locals keep one-time allocations until exit). No suppressions are
# needed today; add one (in a .supp file passed with --suppressions) only for
# a genuine third-party false positive, with a comment saying why it is one.
#
# Valgrind makes the code 20-50 times slower, so only a bounded set of the
# conformance scenarios runs (SCENARIOS below): every one attaches and tears
# down, and together they cover accept, read, write, writable interest,
# timers, the waker, adopted descriptors, client connects and HTTP/1, HTTP/2
# and WebSocket serving. Left out are the load scenarios (1,000 connections,
# large buffered writes, output limits, graceful stop of a flood) and those
# that assert wall-clock bounds a slowed-down process cannot keep (timer
# lateness, idle timeout). Two loops run at a time (one per core).
#
# Environment: VALGRIND_LOOPS="glib libuv" to run some loops only;
# VALGRIND_JOBS (default 2) loops at a time. Logs: target/valgrind/.
set -euo pipefail
cd "$(dirname "$0")/.."

read -r -a loops <<<"${VALGRIND_LOOPS:-glib libuv libevent libev sdevent uloop}"
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
    happy_eyeballs_blackholed_v6_loses_to_v4
)

out=target/valgrind
rm -rf "$out"
mkdir -p "$out"

# The test binaries (built already by the CI step before this one) and their
# paths, from cargo's JSON output: lines "<loop> <test target> <executable>".
# lws-tls-openssl is in the package set as in that step: its dev-dependencies
# turn on lws-conformance's "tls" feature, and a different feature set would
# rebuild every test binary.
pkgs=(-p lws-tls-openssl)
for l in "${loops[@]}"; do pkgs+=(-p "lws-loop-$l"); done
cargo test --no-run --message-format=json "${pkgs[@]}" --tests >"$out/build.json"
python3 - "$out/build.json" >"$out/binaries" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    target = m.get("target", {}).get("name")
    if m.get("reason") == "compiler-artifact" and m.get("executable") \
            and target in ("conformance_foreign", "reentrancy"):
        # package_id: "path+file:///.../loops/glib#lws-loop-glib@0.1.0"
        name = m["package_id"].split("#")[1].split("@")[0]
        print(name.removeprefix("lws-loop-"), target, m["executable"])
EOF

# One loop's binaries in turn under memcheck. Valgrind's report goes to
# $out/<loop>.<target>.vg.<pid>.log (one file per process: the tests fork
# `sh` and `python3` to look for peers), the test output to
# $out/<loop>.<target>.test.log; "<exit code> <seconds>" to $out/<loop>.status.
run_loop() {
    local l=$1 t0=$SECONDS rc=0 target bin args
    grep -q "^$l conformance_foreign " "$out/binaries" || {
        echo "valgrind: no conformance_foreign binary for $l" >"$out/$l.missing.test.log"
        rc=1
    }
    while read -r _ target bin; do
        args=(--test-threads=1)
        [ "$target" = conformance_foreign ] && args+=(--exact "${SCENARIOS[@]}")
        timeout 600 valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
            --show-leak-kinds=definite --error-exitcode=1 --num-callers=20 \
            --log-file="$out/$l.$target.vg.%p.log" \
            "$bin" "${args[@]}" >"$out/$l.$target.test.log" 2>&1 || rc=$?
    done < <(grep "^$l " "$out/binaries")
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
    errors=0 definite=0 passed=0 failed=0
    for f in "$out/$l".*.vg.*.log; do
        [ -e "$f" ] || continue
        e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tr -d , | tail -1)
        d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -1)
        errors=$((errors + ${e:-0}))
        definite=$((definite + ${d:-0}))
    done
    for f in "$out/$l".*.test.log; do
        p=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$f" | tail -1)
        [ -n "$p" ] || { failed=$((failed + 1)); continue; }
        passed=$((passed + ${p% *}))
        failed=$((failed + ${p#* }))
    done
    printf 'valgrind %-9s %4ss  tests: %3s passed, %s failed  errors: %s  definitely lost: %s bytes\n' \
        "$l" "$secs" "$passed" "$failed" "$errors" "$definite"
    if [ "$rc" != 0 ] || [ "$failed" != 0 ] || [ "$errors" != 0 ] || [ "$definite" != 0 ]; then
        fail=1
        for f in "$out/$l".*.test.log; do
            echo "---- $f (tail) ----"
            tail -n 40 "$f"
        done
        for f in "$out/$l".*.vg.*.log; do
            echo "---- $f ----"
            sed -n '/^==[0-9]*== *$/!p' "$f" | sed -n '1,300p'
        done
    fi
done
echo "valgrind: $((SECONDS - t0))s for ${#loops[@]} loops"
exit "$fail"
