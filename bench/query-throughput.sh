#!/usr/bin/env bash
# Benchmark: instant queries of `up` against a local Prometheus, our PrometheusClient versus `hey`,
# sequential and at concurrency 8, same URL, same POST body. Writes bench/results/prometheus-client.md.
#
#   bench/query-throughput.sh [requests]      (default 4000 per run; each run is repeated 3 times, best kept)
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-4000}
repeats=3
work=$(mktemp -d /tmp/healer-bench.XXXXXX)
port=$(python3 -c 'import random,socket
for _ in range(100):
    p=random.randint(20000,32767); s=socket.socket()
    try: s.bind(("127.0.0.1",p)); s.close(); print(p); break
    except OSError: pass')
cleanup() { [ -n "${prom_pid:-}" ] && kill "$prom_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "bench: building bench-prometheus-client (release)"
swift build -c release --product bench-prometheus-client >/dev/null
bench_bin=$(swift build -c release --show-bin-path)/bench-prometheus-client

cat > "$work/prometheus.yml" <<YAML
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: prometheus
    static_configs: [ { targets: ['127.0.0.1:$port'] } ]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$port" >"$work/prometheus.log" 2>&1 &
prom_pid=$!
url="http://127.0.0.1:$port"
echo "bench: waiting for Prometheus on $url and its first scrape"
for _ in $(seq 1 300); do
    curl -sf --data-urlencode 'query=up' "$url/api/v1/query" 2>/dev/null | grep -q '"value"' && break
    sleep 0.1
done

best() { sort -g | tail -1; }
hey_qps() {
    hey -n "$requests" -c "$1" -m POST -T application/x-www-form-urlencoded -d 'query=up' "$url/api/v1/query" \
        | awk '/Requests\/sec/ {print $2}'
}
ours_qps() {
    "$bench_bin" --url "$url" --requests "$requests" --concurrency "$1" | sed -E 's/.*qps=([0-9.]+).*/\1/'
}

declare -A result
for c in 1 8; do
    for tool in hey ours; do
        runs=()
        for _ in $(seq 1 $repeats); do runs+=("$(${tool}_qps "$c")"); done
        result[$tool-$c]=$(printf '%s\n' "${runs[@]}" | best)
        echo "bench: $tool concurrency=$c runs: ${runs[*]} -> best ${result[$tool-$c]} q/s"
    done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mkdir -p bench/results
out=bench/results/prometheus-client.md
{
    echo "# PrometheusClient throughput versus hey"
    echo
    echo "Instant query \`up\` (POST /api/v1/query, form-encoded, keep-alive) against a local Prometheus"
    echo "$(prometheus --version 2>&1 | head -1 | cut -d' ' -f1-3). Our client also decodes every answer into samples; hey does not."
    echo "$requests requests per run, best of $repeats runs."
    echo
    echo "| concurrency | hey (q/s) | PrometheusClient (q/s) | ratio |"
    echo "|---:|---:|---:|---:|"
    for c in 1 8; do
        echo "| $c | ${result[hey-$c]} | ${result[ours-$c]} | $(ratio "${result[ours-$c]}" "${result[hey-$c]}") |"
    done
    echo
    echo "Goal: ratio ≥ 0.90 at both concurrencies."
    echo
    echo "- command: \`bench/query-throughput.sh $requests\` (or \`make bench-query\`)"
    echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1)"
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
} >"$out"
cat "$out"
