#!/usr/bin/env bash
# Failover benchmark: two `healer run` replicas (ha:) against the fake API server, a pod's gray failure in progress;
# `kill -9` of the leader between its drain and its restart. Measures, per run, the time from the kill until the other
# replica holds the Lease, and until its first pass that could act (the pass that takes the shared state over: its
# fencing write reaches the API server, before any balancer write or remedy of that pass); and whether any action was
# taken twice. Writes bench/results/failover.md.
#
#   bench/failover.sh [runs=10] [leases=5,15] [interval=5s]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
leases=${2:-5,15}
interval=${3:-5s}
started=$(date +%s)
echo "bench: building bench-failover and healer"
swift build --product bench-failover >/dev/null
swift build --product healer >/dev/null
bin=$(swift build --show-bin-path)
echo "bench: $runs runs for each lease duration ($leases s), reconcile interval $interval, retry period 2s"
csv=$("$bin/bench-failover" --leases "$leases" --runs "$runs" --interval "$interval" --retry 2s | tee /dev/stderr)
mkdir -p bench/results
{
    echo "# Failover: kill -9 of the leader"
    echo
    echo "Two \`healer run\` replicas with \`ha:\` share a Lease and the state ConfigMap in the fake API server (the one the"
    echo "tests use; \`kubectl\` checks it answers as a real one). A pool of three pods; one pod's error ratio rises, the leader"
    echo "drains it (readiness gate \`False\`), and is killed with SIGKILL during the drain's 2 s of verification. Reconcile"
    echo "interval $interval, retry period 2 s (jittered ×1–2.2 while following, as client-go), renew deadline 10 s for the"
    echo "15 s lease and 3 s for the 5 s lease."
    echo
    echo "- **acquired**: from the kill until the other replica's Lease write naming itself reaches the API server;"
    echo "- **first pass that could act**: from the kill until that replica's takeover write of the shared state reaches the"
    echo "  API server. It is the first step of its first pass as leader, which is started at once when it wins the Lease"
    echo "  (not at its next slot); every balancer write and remedy of that pass comes after it;"
    echo "- **duplicated**: a run in which the drain was written twice, the pod deleted twice, or the shared decisions hold a"
    echo "  step other than once each (drain, restart)."
    echo
    echo "| lease | runs | acquired: median (min–max) | first pass that could act: median (min–max) | goal (lease + 2 s) | runs with a duplicated action |"
    echo "|---:|---:|---|---|---|---:|"
    for lease in ${leases//,/ }; do
        echo "$csv" | awk -F, -v lease="$lease" '
            NR > 1 && $1 == lease { n++; a[n] = $3; f[n] = $4; if ($7 == "yes") d++ }
            function sort(x, n,   i, j, t) { for (i = 2; i <= n; i++) { t = x[i]; for (j = i - 1; j > 0 && x[j] > t; j--) x[j + 1] = x[j]; x[j + 1] = t } }
            function median(x, n) { return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
            END {
                if (n == 0) exit
                sort(a, n); sort(f, n)
                m = median(f, n)
                printf "| %d s | %d | %.2f s (%.2f–%.2f) | %.2f s (%.2f–%.2f) | %s | %d |\n", lease, n, median(a, n), a[1], a[n], m, f[1], f[n], (m <= lease + 2 ? "met" : "not met"), d
            }'
    done
    echo
    echo "Every run, as measured:"
    echo
    echo '```'
    echo "$csv"
    echo '```'
    echo
    echo "Why a takeover takes about the lease duration: the follower judges the leader's lease by its own monotonic"
    echo "clock from when it last *saw* a renewal (never by comparing the Lease's renewTime with its own wall clock), so"
    echo "it waits a whole lease duration after the last renewal it saw, then up to one jittered retry period for its"
    echo "next attempt. The kill comes at a random point of the leader's 2 s renewal cycle, which takes up to that much"
    echo "off. Shorter leases fail over faster and cost more Lease writes (one per retry period per leader)."
    echo
    echo "- command: \`bench/failover.sh $runs $leases $interval\`"
    echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1)"
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
} >bench/results/failover.md
echo "bench: done in $(($(date +%s) - started)) s; results in bench/results/failover.md"
