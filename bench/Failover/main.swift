// Failover benchmark: two `healer run` replicas (ha:) against the fake API server, a gray failure in progress;
// `kill -9` of the leader between its two ladder steps, then the time until the other replica's first pass that could
// act: the pass that takes the shared state over (its fencing write reaches the API server). Also: the time until it
// holds the Lease, and whether any action was taken twice (the drain, the restart). Prints one CSV line per run.
//
//   bench-failover [--leases 5,15] [--runs 10] [--interval 5s] [--retry 2s]
import FakeKubernetes
import Foundation
import HealerTesting
import ReplicaHarness

#if canImport(Glibc)
    import Glibc
#endif

struct Options {
    var leases = [5, 15]
    var runs = 10
    var interval = "5s"
    var retry = "2s"

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { fatalError("\(flag) needs a value") }
            switch flag {
            case "--leases": leases = value.split(separator: ",").compactMap { Int($0) }
            case "--runs": runs = Int(value) ?? runs
            case "--interval": interval = value
            case "--retry": retry = value
            default: fatalError("unknown flag \(flag)")
            }
        }
    }
}

func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

/// The runs, off the main actor.
enum Failover {
    static func measure(_ options: Options) async throws {
        FileHandle.standardOutput.write(Data("lease_s,run,acquired_s,first_pass_s,drains,restarts,duplicated\n".utf8))
        for lease in options.leases {
            var settings = ReplicaPair.Settings()
            settings.leaseDuration = "\(lease)s"
            // client-go's defaults for 15 s; for shorter leases the renew deadline keeps its share of the lease.
            settings.renewDeadline = lease >= 15 ? "10s" : "\(max(2, lease * 2 / 3))s"
            settings.retryPeriod = options.retry
            settings.interval = options.interval
            settings.drainVerify = "2s"
            for run in 1...options.runs {
                try await ReplicaPair.with(settings) { pair in
                    try await pair.startLeaderThenFollower()
                    pair.sick.set(["web-b"])
                    try await waitUntil("web-b drained by the leader", timeout: .seconds(60)) { pair.gate("web-b") == "False" }
                    guard let leader = pair.process("healer-a") else { fatalError("no leader") }
                    let killed = ContinuousClock.now
                    kill(-leader.pid, SIGKILL)
                    _ = try await eventually("the leader to die", timeout: .seconds(10)) { leader.exitStatus() }
                    let limit = Duration.seconds(lease * 3 + 30)
                    let firstPass = try await eventually("the new leader's first pass", timeout: limit) { pair.takeover(by: "healer-b") }
                    let acquired = pair.leaseAcquired(by: "healer-b")
                    try await waitUntil("web-b restarted by the new leader", timeout: .seconds(60)) {
                        pair.cluster.object("pods", namespace: "shop", name: "web-b") == nil
                    }
                    let drains = pair.gateWrites("web-b", "False")
                    let restarts = pair.deletions("web-b")
                    let steps = pair.sharedDecisions.filter { $0.code == "step_applied" }.compactMap(\.action)
                    let duplicated = drains != 1 || restarts != 1 || steps != ["drain", "restart"]
                    let line = String(
                        format: "%d,%d,%.2f,%.2f,%d,%d,%@\n", lease, run, acquired.map { seconds(killed.duration(to: $0)) } ?? -1,
                        seconds(killed.duration(to: firstPass)), drains, restarts, duplicated ? "yes" : "no")
                    FileHandle.standardOutput.write(Data(line.utf8))
                }
            }
        }
    }
}

try await Failover.measure(Options(CommandLine.arguments))
