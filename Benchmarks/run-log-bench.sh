#!/usr/bin/env bash
# The log ingest/storage/scan benchmark: generates the 1,000,000-event corpus, starts a release `skylens serve`
# with a fresh data directory, loads the corpus through PutLogEvents from the Swift load generator, and prints
# events/s, bytes per event and the FilterLogEvents scan rate. Usage: Benchmarks/run-log-bench.sh [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
CORPUS=bench-data/corpus-$EVENTS
SHARED=${SKYLENS_SHARED:-../shared}

if [ ! -f "$CORPUS/corpus.log" ]; then
    python3 "$SHARED/bench/gen_corpus.py" "$EVENTS" "$CORPUS"
fi
swift build -c release --product skylens
swift build -c release --product skylens-bench

DATA=$(mktemp -d /tmp/skylens-bench-XXXXXX)
PORT=${SKYLENS_BENCH_PORT:-4577}
.build/release/skylens serve --port "$PORT" --data-dir "$DATA" --rules-dir "$DATA/no-rules" --log-level warning &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/_skylens/health" >/dev/null && break
    sleep 0.1
done
.build/release/skylens-bench logs --endpoint "http://127.0.0.1:$PORT" --corpus "$CORPUS" --data-dir "$DATA" "${@:2}"

.build/release/skylens-bench patterns --corpus "$CORPUS"

# Stop the collector gracefully: SQLite checkpoints the WAL into the database file when the last connection closes,
# so the file size is then exactly what the data takes on disk.
kill -TERM $SERVER
wait $SERVER || true
SIZE=$(stat -c %s "$DATA/skylens.sqlite")
echo "disk after shutdown: $SIZE bytes in skylens.sqlite = $(python3 -c "print(round($SIZE / $EVENTS, 1))") bytes/event"

# Metrics, on a second collector with its own data directory so that the figures above stay about logs alone.
DATA2=$(mktemp -d /tmp/skylens-bench-XXXXXX)
.build/release/skylens serve --port "$PORT" --data-dir "$DATA2" --rules-dir "$DATA2/no-rules" --log-level warning &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA" "$DATA2"' EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/_skylens/health" >/dev/null && break
    sleep 0.1
done
.build/release/skylens-bench metrics --endpoint "http://127.0.0.1:$PORT" --corpus "$CORPUS"
