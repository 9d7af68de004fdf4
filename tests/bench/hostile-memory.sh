#!/usr/bin/env bash
# Peak memory of `iotdoctor analyze` on one hostile connection of growing size, made by
# make-hostile-capture.py: for each kind of flood and size, without and with a key log, the
# maximum resident set size (GNU time) and the verdict. Not part of the test suite.
# Needs python3 and GNU time (`apt-get install time`).
#
# usage: tests/bench/hostile-memory.sh [BINARY] [MEGABYTES...]
#   BINARY defaults to target/release/iotdoctor (built); MEGABYTES to 1.6 16 160.
#   Captures are written to /tmp/iotdoctor-hostile/ and kept for the next run.
set -euo pipefail
cd "$(dirname "$0")/../.."
BINARY="${1:-target/release/iotdoctor}"
shift || true
SIZES=("${@:-1.6 16 160}")
[ "$BINARY" = target/release/iotdoctor ] && cargo build --release -q
DIR=/tmp/iotdoctor-hostile
mkdir -p "$DIR"

printf '%-8s %8s %-7s %10s %8s  %s\n' kind MB keylog "peak MB" seconds verdict
for size in ${SIZES[*]}; do
    for kind in tiny tinyapp bigmsg alerts appdata; do
        capture="$DIR/$kind-$size.pcap"
        [ -f "$capture" ] || python3 tests/bench/make-hostile-capture.py "$capture" --kind "$kind" \
            --megabytes "$size" --keylog "$DIR/$kind.keylog" >/dev/null
        for keylog in no yes; do
            args=(analyze "$capture" --format json)
            [ "$keylog" = yes ] && args+=(--keylog "$DIR/$kind.keylog")
            /usr/bin/time -f "%e %M" -o "$DIR/time" "$BINARY" "${args[@]}" >"$DIR/out.json" 2>/dev/null || true
            read -r seconds kilobytes < <(tail -n 1 "$DIR/time")
            verdict=$(python3 -c "
import json, sys
try:
    h = json.load(open('$DIR/out.json'))['handshakes'][0]
    causes = h['diagnosis']['causes']
    print(h['outcome'], causes[0]['id'] if causes else '', len(h['transcript']['events']), 'events')
except Exception as e:
    print('no report:', e)")
            printf '%-8s %8s %-7s %10d %8s  %s\n' "$kind" "$size" "$keylog" "$((kilobytes / 1024))" "$seconds" "$verdict"
        done
    done
done
