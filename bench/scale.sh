#!/usr/bin/env bash
# Scale benchmark: one reconcile pass over 1k, 10k and 50k targets × 20 recovery rules, Prometheus answers
# served from generated fixtures by a loopback server. Writes bench/results/scale.md.
#
#   bench/scale.sh [targets=1000,10000,50000] [repeats=5]
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${1:-1000,10000,50000}
repeats=${2:-5}
echo "bench: building bench-scale (release)"
swift build -c release --product bench-scale >/dev/null
bin=$(swift build -c release --show-bin-path)/bench-scale
csv=$("$bin" --targets "$targets" --rules 20 --repeats "$repeats")
echo "$csv"
mkdir -p bench/results
{
    echo "# One reconcile pass at scale"
    echo
    echo "20 recovery rules over one pool of N servers; each rule's answer (one series per server, about 1 % unhealthy) is"
    echo "served by a loopback HTTP server from generated fixtures. Median of $repeats passes after a warm-up pass, release build."
    echo
    echo "| targets | series per pass | wall (ms) | CPU (ms) | engine (ms) | fetch + decode (ms) | decode alone (ms) | peak RSS (MiB) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
    echo "$csv" | tail -n +2 | while IFS=, read -r t r wall cpu engine fetch decode rss; do
        echo "| $t | $((t * r)) | $wall | $cpu | $engine | $fetch | $decode | $rss |"
    done
    echo
    echo "- wall and CPU: the whole pass (20 queries over HTTP, JSON decoding, the engine, the plan), CPU of all threads;"
    echo "- engine: \`Engine.reconcile\` alone on the same inputs; fetch + decode: wall minus engine;"
    echo "- decode alone: the 20 answers decoded in one thread, without HTTP."
    echo
    echo "- command: \`bench/scale.sh $targets $repeats\`"
    echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1)"
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
} >bench/results/scale.md
cat bench/results/scale.md
