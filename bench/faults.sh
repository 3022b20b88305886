#!/usr/bin/env bash
# Fault-injection benchmark: HAProxy health checks alone (inter 1s fall 3 rise 2) versus HAProxy with Healer,
# same load (4 clients), for a crash, 30 % errors with /health still 200, +300 ms latency, flapping every 5 s,
# and a planned restart. Writes bench/results/faults.md and bench/results/faults.json.
#
#   bench/faults.sh [fault-seconds=45] [scenarios=crash,errors,latency,flapping,restart]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-45}
scenarios=${2:-crash,errors,latency,flapping,restart}
scripts/setup
echo "bench: building bench-faults, healer and demo-backend"
swift build --product bench-faults >/dev/null
swift build --product demo-backend >/dev/null
bin=$(swift build --show-bin-path)
mkdir -p bench/results
table=$("$bin/bench-faults" --scenarios "$scenarios" --fault-seconds "$seconds" --json bench/results/faults.json)
{
    echo "# Faults: HAProxy alone versus HAProxy with Healer"
    echo
    echo "Real HAProxy 2.6 (HTTP health checks \`inter 1s fall 3 rise 2\`), Prometheus scraping its exporter every second,"
    echo "three demo backends, 4 clients through HAProxy. Each scenario runs twice under the same load: HAProxy alone, then"
    echo "with Healer (reconcile every 0.5 s). Faults hit s1 for ${seconds} s, then end (a crash or a restart does not end by itself)."
    echo "Client errors and latency are counted from the fault until 5 s after its end; p50/p99 over successful requests."
    echo "Detect: fault to the incident firing; mitigate: fault to the first remedy; full capacity: fault to s1 back at full"
    echo "weight, in rotation, incident closed; stranded: capacity still missing at the end of the run."
    echo
    echo "$table"
    echo
    echo "- command: \`bench/faults.sh $seconds $scenarios\`"
    echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(swift --version 2>&1 | head -1), $(haproxy -v | head -1)"
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
} >bench/results/faults.md
cat bench/results/faults.md
