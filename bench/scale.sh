#!/usr/bin/env bash
# Scale benchmark: one reconcile pass over 1k, 10k and 50k targets × 20 recovery rules, Prometheus answers
# served from generated fixtures by a loopback server in a child process. Writes bench/results/scale.md.
#
#   bench/scale.sh [targets=1000,10000,50000] [repeats=5]
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${1:-1000,10000,50000}
repeats=${2:-5}
echo "bench: building bench-scale (release)"
started=$(date +%s)
swift build -c release --product bench-scale >/dev/null
bin=$(swift build -c release --show-bin-path)/bench-scale
# Allocations are counted by ordo-one/malloc-interposer, which must be preloaded.
interposer=$(swift build -c release --show-bin-path)/libMallocInterposerSwift.so
[ -f "$interposer" ] || { echo "bench: $interposer is missing" >&2; exit 1; }
echo "bench: running $targets targets × 20 rules, median of $repeats passes each"
csv=$(LD_PRELOAD="$interposer" "$bin" --targets "$targets" --rules 20 --repeats "$repeats")
echo "$csv"
echo "bench: running 10000 targets with six labels per series"
wide=$(LD_PRELOAD="$interposer" "$bin" --targets 10000 --rules 20 --repeats "$repeats" --wide yes | tail -n +2)
echo "$wide"
mkdir -p bench/results
{
    echo "# One reconcile pass at scale"
    echo
    echo "20 recovery rules over one pool of N servers; each rule's answer (one series per server, about 1 % of servers"
    echo "unhealthy by each rule, so about 20 % of servers have an open incident) is served from generated fixtures by a"
    echo "loopback HTTP server in a child process. Median of $repeats passes after a warm-up pass, release build. Series"
    echo "carry the labels proxy and server; the \"6 labels\" row adds env, instance, job and region, as a sum by over"
    echo "HAProxy's exporter keeps them. The pass keeps only the label the pool's template reads (server). Each pass"
    echo "also asks the pool's freshness query (the 20 rules' derived timestamp() checks as one query); the fixture"
    echo "server answers it as Prometheus does for a fleet whose data is fresh: no series."
    echo
    echo "| targets | series per pass | wall (ms) | CPU (ms) | best CPU (ms) | CPU per 1k series (ms) | allocations | allocated (MiB) | engine CPU (ms) | engine allocations | JSON decoding CPU (ms) | decoding share | peak RSS (MiB) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    { echo "$csv" | tail -n +2; echo "$wide" | sed 's/^10000,/10000 (6 labels),/'; } | while IFS=, read -r t r wall cpu best allocations allocated engine engineAllocations decode rss; do
        series=$((${t%% *} * r))
        perk=$(awk -v c="$cpu" -v s="$series" 'BEGIN { printf "%.2f", c / (s / 1000) }')
        share=$(awk -v d="$decode" -v c="$cpu" 'BEGIN { printf "%.0f %%", 100 * d / c }')
        echo "| $t | $series | $wall | $cpu | $best | $perk | $allocations | $allocated | $engine | $engineAllocations | $decode | $share | $rss |"
    done
    echo
    echo "- CPU is the median pass; best CPU the cheapest (this machine is shared, and its noise only ever adds);"
    echo "- wall, CPU and allocations: the whole pass in Healer's process (21 queries over HTTP on 4 connections, reading"
    echo "  the answers, the engine, the plan), CPU of all its threads; the fixture server's CPU is not counted;"
    echo "- engine: \`Engine.reconcile\` alone on the same inputs, CPU of its thread;"
    echo "- JSON decoding: the 20 answers read alone in one thread, as the pass reads them (on up to 4 threads);"
    echo "- allocations and allocated: heap allocation calls and bytes requested in the pass, counted by"
    echo "  ordo-one/malloc-interposer (preloaded)."
    echo
    echo "## Against the goal"
    echo
    echo "Goal: a 10k-target pass in ≤ 80 ms of CPU (median), cost growing linearly with targets."
    echo
    echo "$csv" | awk -F, 'NR > 1 { cpu[$1] = $4 } END {
        if (10000 in cpu) printf "- 10k targets: %.1f ms of CPU (median pass), %s (%.2f× the budget)\n", cpu[10000], (cpu[10000] <= 80 ? "met" : "not met"), cpu[10000] / 80
        if ((1000 in cpu) && (10000 in cpu)) printf "- 1k → 10k targets: CPU ×%.1f for ×10 targets\n", cpu[10000] / cpu[1000]
        if ((10000 in cpu) && (50000 in cpu)) printf "- 10k → 50k targets: CPU ×%.1f for ×5 targets\n", cpu[50000] / cpu[10000]
    }'
    echo
    echo "How the pass is built to scale: docs/scale.md."
    echo
    echo "- command: \`bench/scale.sh $targets $repeats\`"
    echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1)"
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
} >bench/results/scale.md
echo "bench: done in $(($(date +%s) - started)) s; results in bench/results/scale.md"
