#!/usr/bin/env bash
# The benchmarks: generates the 1,000,000-event corpus, starts a release `skylens serve` with a fresh data
# directory, loads the corpus through PutLogEvents from the Swift load generator, and prints events/s, bytes per
# event and the FilterLogEvents scan rates; then the matcher alone; then, on a second collector, the metric
# benchmarks, then on a third the X-Ray ones. Usage: Benchmarks/run-log-bench.sh [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
CORPUS=bench-data/corpus-$EVENTS
SHARED=${SKYLENS_SHARED:-../shared}
PORT=${SKYLENS_BENCH_PORT:-4577}
XRAY_PORT=$((PORT + 1))

if [ ! -f "$CORPUS/corpus.log" ]; then
    python3 "$SHARED/bench/gen_corpus.py" "$EVENTS" "$CORPUS"
fi
swift build -c release --product skylens
swift build -c release --product skylens-bench

SERVER=""
DIRS=()
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "${DIRS[@]}"
}
trap cleanup EXIT

# Starts a collector on $PORT with a fresh data directory (no rules) and waits until it answers; sets DATA, SERVER.
start_collector() {
    DATA=$(mktemp -d /tmp/skylens-bench-XXXXXX)
    DIRS+=("$DATA")
    .build/release/skylens serve --port "$PORT" --xray-port "$XRAY_PORT" --data-dir "$DATA" --rules-dir "$DATA/no-rules" --log-level warning &
    SERVER=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$PORT/_skylens/health" >/dev/null && return
        sleep 0.1
    done
    echo "the collector did not start" >&2
    exit 1
}

stop_collector() {
    kill -TERM "$SERVER"
    wait "$SERVER" || true
    SERVER=""
}

start_collector
.build/release/skylens-bench logs --endpoint "http://127.0.0.1:$PORT" --corpus "$CORPUS" --data-dir "$DATA" "${@:2}"
.build/release/skylens-bench patterns --corpus "$CORPUS"

# A graceful stop checkpoints the WAL into skylens.sqlite, whose size is then what the data takes on disk.
stop_collector
SIZE=$(stat -c %s "$DATA/skylens.sqlite")
echo "disk after shutdown: $SIZE bytes in skylens.sqlite = $(python3 -c "print(round($SIZE / $EVENTS, 1))") bytes/event"

# Metrics, on a second collector, so that the figures above stay about logs alone.
start_collector
.build/release/skylens-bench metrics --endpoint "http://127.0.0.1:$PORT" --corpus "$CORPUS" --server-pid "$SERVER"
.build/release/skylens-bench metrics-cpu --corpus "$CORPUS"
.build/release/skylens-bench alarms
stop_collector

# Traces, on a third collector: 1,000,000 segments over UDP to the daemon port, then summaries over them.
start_collector
.build/release/skylens-bench traces --endpoint "http://127.0.0.1:$PORT" --xray-port "$XRAY_PORT" --server-pid "$SERVER"
.build/release/skylens-bench traces-cpu
