#!/usr/bin/env bash
# Run every cargo-fuzz target for FUZZ_SECS seconds (default 20 in CI; the
# acceptance runs use 60). The machine has a stable toolchain only, so
# cargo-fuzz's nightly flags are enabled with RUSTC_BOOTSTRAP.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECS:-20}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in $(cargo fuzz list); do
    echo "fuzz: $target for ${secs}s"
    cargo fuzz run "$target" -- -max_total_time="$secs" 2>&1 | grep -E "^Done|ERROR|panicked" || true
    # cargo fuzz exits non-zero on a crash; the pipeline above hides that,
    # so check for a crash artifact explicitly.
    if compgen -G "fuzz/artifacts/$target/crash-*" >/dev/null; then
        echo "fuzz: $target crashed:"; ls "fuzz/artifacts/$target"; exit 1
    fi
done
