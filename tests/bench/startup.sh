#!/usr/bin/env bash
# Whole-process wall time of `iotdoctor connect` against `openssl s_client` on the same local
# `openssl s_server`, side by side in one run: both make one TLS 1.3 handshake with the fixture
# PKI and see the server accept it (s_client reads the session tickets; iotdoctor waits for the
# server's first records after the handshake, its proof of acceptance). Not part of the tests.
#
# usage: tests/bench/startup.sh [RUNS] [BINARY...]
#   RUNS defaults to 50; BINARY to target/release/iotdoctor (built). Several binaries (say, one
#   built without AWS_LC_SYS_NO_JITTER_ENTROPY) are measured in the same run, interleaved.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${1:-50}"
shift || true
BINARIES=("$@")
if [ ${#BINARIES[@]} -eq 0 ]; then
    cargo build --release -q
    BINARIES=(target/release/iotdoctor)
fi
PKI=fixtures/pki
PORT=$((20000 + RANDOM % 20000))
openssl s_server -accept "127.0.0.1:$PORT" -quiet -cert "$PKI/server.pem" -key "$PKI/server.key" \
    -cert_chain "$PKI/intermediate-ca.pem" -naccept 1000000 </dev/null >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

# now_ns: a monotonic clock in nanoseconds.
now_ns() { date +%s%N; }
declare -A TOTAL
names=(s_client "${BINARIES[@]}")
for name in "${names[@]}"; do TOTAL[$name]=0; done
for _ in $(seq "$RUNS"); do
    for name in "${names[@]}"; do
        start=$(now_ns)
        if [ "$name" = s_client ]; then
            openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$PKI/root-ca.pem" -verify_return_error \
                -servername localhost </dev/null >/dev/null 2>&1
        else
            "$name" connect --endpoint "127.0.0.1:$PORT" --ca "$PKI/root-ca.pem" --sni localhost >/dev/null
        fi
        TOTAL[$name]=$(( ${TOTAL[$name]} + $(now_ns) - start ))
    done
done
base=${TOTAL[s_client]}
for name in "${names[@]}"; do
    python3 -c "t=${TOTAL[$name]}/$RUNS/1e6; print(f'{\"$name\":40} {t:7.1f} ms per run   {${TOTAL[$name]}/$base:.2f} x s_client')"
done
