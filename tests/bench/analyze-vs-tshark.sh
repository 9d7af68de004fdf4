#!/usr/bin/env bash
# Benchmark of `iotdoctor analyze` against `tshark -r FILE -Y tls.handshake` on the same large
# capture, in the same run: wall time, throughput and peak memory of each (GNU time).
# Not part of the test suite. Needs tshark, python3 and GNU time (`apt-get install tshark time`).
#
# usage: tests/bench/analyze-vs-tshark.sh [CAPTURE] [HANDSHAKES] [MEGABYTES]
#   CAPTURE defaults to /tmp/iotdoctor-bench.pcap, generated when missing (50000 handshakes, 1 GiB).
set -euo pipefail
cd "$(dirname "$0")/../.."
CAPTURE="${1:-/tmp/iotdoctor-bench.pcap}"
HANDSHAKES="${2:-50000}"
MEGABYTES="${3:-1024}"

cargo build --release -q
if [ ! -f "$CAPTURE" ]; then
    python3 tests/bench/make-capture.py "$CAPTURE" --handshakes "$HANDSHAKES" --megabytes "$MEGABYTES"
fi
SIZE=$(stat -c %s "$CAPTURE")
# Read the file once so that both tools find it in the page cache.
cat "$CAPTURE" >/dev/null

# measure VARIABLE LABEL COMMAND...: runs COMMAND, prints its figures, keeps its seconds in VARIABLE.
measure() {
    local variable="$1" name="$2"
    shift 2
    /usr/bin/time -f "%e %M" -o /tmp/iotdoctor-bench.time "$@" >/tmp/iotdoctor-bench.out 2>/dev/null || true
    # GNU time says "Command exited with non-zero status" first when the tool reports problems.
    read -r seconds kilobytes < <(tail -n 1 /tmp/iotdoctor-bench.time)
    local rate
    rate=$(python3 -c "print(f'{$SIZE / 1e6 / max($seconds, 0.001):.0f}')")
    printf '%-34s %8.2f s %8s MB/s %8d MB peak\n' "$name" "$seconds" "$rate" "$((kilobytes / 1024))"
    printf -v "$variable" '%s' "$seconds"
}

echo "capture: $CAPTURE, $((SIZE / 1000000)) MB"
measure json "iotdoctor analyze --format json" target/release/iotdoctor analyze "$CAPTURE" --format json
handshakes=$(python3 -c "import json; print(len(json.load(open('/tmp/iotdoctor-bench.out'))['handshakes']))")
measure text "iotdoctor analyze (text)" target/release/iotdoctor analyze "$CAPTURE"
measure tshark "tshark -Y tls.handshake" tshark -r "$CAPTURE" -Y tls.handshake
tshark_lines=$(wc -l </tmp/iotdoctor-bench.out)
echo "iotdoctor: $handshakes handshakes diagnosed; tshark: $tshark_lines TLS handshake packets listed"
python3 -c "print(f'tshark / iotdoctor wall time: {$tshark / max($text, 0.001):.1f}x (text), {$tshark / max($json, 0.001):.1f}x (json)')"
