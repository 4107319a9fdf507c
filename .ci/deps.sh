#!/usr/bin/env bash
# System packages the full build and the interop tests need. Idempotent.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
PKGS=(
    pkg-config libclang-dev cmake                 # bindgen for the C loop -sys crates
    libglib2.0-dev libuv1-dev libevent-dev libev-dev libsystemd-dev libjson-c-dev
    libssl-dev                                    # the openssl TLS backend
    valgrind                                      # memcheck over the C-loop adapters
    curl wrk nghttp2-client libwebsockets-test-server
    mosquitto mosquitto-clients                   # MQTT broker and clients (interop)
    dnsmasq                                       # DNS server for the resolver tests
)
missing=()
for p in "${PKGS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || true
# This machine kind ships libpcre2-8-0 from a point release its apt sources
# do not carry, while libglib2.0-dev needs libpcre2-dev of the base release:
# let apt align the runtime library with the -dev package it can install.
if ! $SUDO apt-get install -y -q "${missing[@]}"; then
    base=$(apt-cache madison libpcre2-dev | awk 'NR==1{print $3}')
    $SUDO apt-get install -y -q --allow-downgrades "libpcre2-8-0=$base" "${missing[@]}"
fi
