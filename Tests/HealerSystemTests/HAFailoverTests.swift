import CurlHTTP
import FakeKubernetes
import Foundation
import HealerCore
import HealerTesting
import Synchronization
import Testing

/// Two `healer run` processes with `ha:` against the fake API server: a pool of pods whose readiness gates and
/// deletions are the only writes, so the API server's request log shows every action either replica took. Timings
/// are short (3 s lease) and every wait polls with a generous deadline; timing goals belong to bench/failover.sh.
@Suite("Two replicas: failover and fencing", .serialized)
struct HAFailoverTests {
    static let gate = KubernetesSettings.defaultReadinessGate
    static let pods = ["web-a", "web-b", "web-c"]

    /// The pods, a Prometheus that answers from the pods the API server has, and two Healers sharing one Lease.
    final class Pair: Sendable {
        let cluster: FakeKubernetesAPIServer
        let directory: TemporaryDirectory
        let ports: [String: Int]
        let processes = Mutex<[String: ManagedProcess]>([:])
        let configuration: [String: String]

        init(cluster: FakeKubernetesAPIServer, prometheus: String, directory: TemporaryDirectory, drainVerify: String, pendingFor: String) throws {
            self.cluster = cluster
            self.directory = directory
            let kubeconfig = try cluster.writeKubeconfig(in: directory.path, namespace: "shop")
            try FileManager.default.createDirectory(atPath: directory.path + "/rules", withIntermediateDirectories: true)
            try directory.write(
                "rules/web.yaml",
                """
                groups:
                  - name: web
                    pool: web
                    rules:
                      - name: PodErrorRatio
                        expr: pod_error_ratio
                        unhealthy: "> 0.05"
                        healthy: "< 0.01"
                        for: \(pendingFor)
                        clear_for: 60s
                        ladder:
                          - { drain: {}, verify: \(drainVerify) }
                          - { restart: restart-pod, verify: 60s }
                          - { quarantine: {} }
                """)
            var ports: [String: Int] = [:]
            var configuration: [String: String] = [:]
            for name in ["healer-a", "healer-b"] {
                let port = try FreePort.next()
                ports[name] = port
                configuration[name] = """
                    prometheus: { url: "\(prometheus)", timeout: 5s }
                    balancers: { cluster: { kubernetes: { kubeconfig: "\(kubeconfig)" } } }
                    actuators: { restart-pod: { kubernetes: { action: delete, grace_period: 1s } } }
                    pools:
                      web: { balancer: cluster, namespace: shop, selector: app=web, min_healthy_capacity: 50% }
                    rules: ["rules/*.yaml"]
                    reconcile: { interval: 500ms }
                    safety: { dry_run: false, cooldown: 0s, max_actions_per_minute: 60 }
                    state: { path: "\(directory.path)/\(name)/state.db" }
                    server: { listen: "127.0.0.1:\(port)" }
                    ha:
                      kubeconfig: "\(kubeconfig)"
                      lease: { identity: \(name), duration: 3s, renew_deadline: 2s, retry_period: 500ms }
                    """
            }
            self.ports = ports
            self.configuration = configuration
        }

        func start(_ name: String) async throws {
            try directory.write("\(name).yaml", configuration[name] ?? "")
            let process = try ManagedProcess.start(
                .init(
                    name: name, executable: try BuiltProduct.path("healer"), arguments: ["run", "--config", directory.path + "/\(name).yaml"],
                    directory: directory.path, readiness: .http(url: "http://127.0.0.1:\(ports[name] ?? 0)/healthz")))
            processes.withLock { $0[name] = process }
            try await process.waitUntilReady()
        }

        func process(_ name: String) -> ManagedProcess? { processes.withLock { $0[name] } }

        func stopAll() async {
            for process in processes.withLock({ Array($0.values) }) {
                kill(-process.pid, SIGCONT)
                await process.stop()
            }
        }

        /// The Lease's holder, as the API server has it.
        var holder: String? {
            cluster.object("leases", namespace: "shop", name: "healer", apiVersion: "coordination.k8s.io/v1")?.value(at: "spec.holderIdentity")?
                .string
        }

        /// A replica's `leadership` in its `/api/v1/status`, or `nil` when it does not answer.
        func leadership(_ name: String) async -> Leadership? {
            guard let response = try? await HTTPClient().get("http://127.0.0.1:\(ports[name] ?? 0)/api/v1/status"), response.isSuccess,
                let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
                let leadership = object["leadership"] as? [String: Any], let leading = leadership["leading"] as? Bool
            else { return nil }
            return Leadership(leading: leading, holder: leadership["holder"] as? String)
        }

        func gate(_ pod: String) -> String? {
            cluster.object("pods", namespace: "shop", name: pod)?.value(at: "status.conditions")?.array?
                .first { $0["type"]?.string == HAFailoverTests.gate }?["status"]?.string
        }

        /// Writes to `pod`'s readiness gate setting `status`, as the API server received them.
        func gateWrites(_ pod: String, _ status: String) -> Int {
            cluster.requests.filter {
                $0.method == "PATCH" && $0.path == "/api/v1/namespaces/shop/pods/\(pod)/status" && $0.body.contains(#""status":"\#(status)""#)
            }.count
        }

        func deletions(_ pod: String) -> Int {
            cluster.requests.filter { $0.method == "DELETE" && $0.path == "/api/v1/namespaces/shop/pods/\(pod)" }.count
        }

        /// The decisions in the shared state, as codes and actions.
        var sharedDecisions: [(code: String, action: String?)] {
            let text = cluster.object("configmaps", namespace: "shop", name: "healer-state")?["data"]?["decisions.jsonl"]?.string ?? ""
            return text.split(separator: "\n").compactMap { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let code = object["code"] as? String
                else { return nil }
                return (code, (object["actionType"] as? [String: Any])?["name"] as? String)
            }
        }
    }

    static func pod(_ name: String) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(name), "namespace": "shop", "labels": ["app": "web"],
                "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9c", "uid": "rs-uid", "controller": true]],
            ],
            "spec": ["nodeName": "node-1", "readinessGates": [["conditionType": .string(gate)]], "containers": [["name": "app"]]],
            "status": [
                "phase": "Running", "conditions": [["type": "PodScheduled", "status": "True"], ["type": "ContainersReady", "status": "True"]],
                "containerStatuses": [["name": "app", "ready": true, "restartCount": 0]],
            ],
        ]
    }

    /// The pods whose error ratio is high.
    final class Sick: Sendable {
        private let pods = Mutex<Set<String>>([])
        var now: Set<String> { pods.withLock { $0 } }
        func set(_ sick: Set<String>) { pods.withLock { $0 = sick } }
    }

    /// Runs `body` with the pods, the Prometheus and the pair (not started); `sick` holds the pods that fail.
    static func withPair(drainVerify: String = "6s", pendingFor: String = "1s", _ body: (Pair, Sick) async throws -> Void) async throws {
        try await FakeKubernetesAPIServer.with { cluster in
            try cluster.create(["apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "web-7d9c", "namespace": "shop"]])
            for name in pods { try cluster.create(Self.pod(name)) }
            let sick = Sick()
            try await ScriptedHTTPServer.with({ request in
                guard request.path == "/api/v1/query" else { return .text("ok") }
                // The rule's freshness query: fresh data, no series.
                guard request.formFields["query"] == "pod_error_ratio" else {
                    return .json(#"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
                }
                let now = Date().timeIntervalSince1970
                let unhealthy = sick.now
                let series = cluster.objects("pods", namespace: "shop").compactMap { $0.value(at: "metadata.name")?.string }.map { pod in
                    #"{"metric":{"namespace":"shop","pod":"\#(pod)"},"value":[\#(now),"\#(unhealthy.contains(pod) ? "0.4" : "0")"]}"#
                }
                return .json(#"{"status":"success","data":{"resultType":"vector","result":["# + series.joined(separator: ",") + "]}}")
            }) { prometheus in
                try await TemporaryDirectory.with(prefix: "ha") { directory in
                    let pair = try Pair(
                        cluster: cluster, prometheus: prometheus.url, directory: directory, drainVerify: drainVerify, pendingFor: pendingFor)
                    do {
                        try await body(pair, sick)
                    } catch {
                        for name in ["healer-a", "healer-b"] {
                            if let process = pair.process(name) { print("--- \(name)\n\(process.logTail(lines: 60))") }
                        }
                        await pair.stopAll()
                        throw error
                    }
                    await pair.stopAll()
                }
            }
        }
    }

    /// Starts A, waits until it leads and has every pod in service, then starts B.
    static func startLeaderThenFollower(_ pair: Pair) async throws {
        try await pair.start("healer-a")
        try await waitUntil("healer-a to lead", timeout: .seconds(30)) { pair.holder == "healer-a" }
        try await waitUntil("every pod in service", timeout: .seconds(30)) { pods.allSatisfy { pair.gate($0) == "True" } }
        try await pair.start("healer-b")
        try await waitUntil("healer-b to follow", timeout: .seconds(30)) {
            await pair.leadership("healer-b") == Leadership(leading: false, holder: "healer-a")
        }
    }

    @Test func killedBetweenTwoStepsTheLeaderIsSucceededAtTheSameStepAndNoActionIsTakenTwice() async throws {
        try await Self.withPair { pair, sick in
            try await Self.startLeaderThenFollower(pair)
            sick.set(["web-b"])
            try await waitUntil("web-b drained by the leader", timeout: .seconds(30)) { pair.gate("web-b") == "False" }
            // Between its first step and its second (6 s of verification), the leader is killed.
            let leader = try #require(pair.process("healer-a"))
            kill(-leader.pid, SIGKILL)
            _ = try await eventually("healer-a to die", timeout: .seconds(10)) { leader.exitStatus() }
            try await waitUntil("healer-b to lead", timeout: .seconds(30)) { pair.holder == "healer-b" }
            try await waitUntil("web-b restarted by the new leader", timeout: .seconds(30)) {
                pair.cluster.object("pods", namespace: "shop", name: "web-b") == nil
            }
            // Each action exactly once: one drain (by A), one delete (by B), as the API server saw them and as the
            // shared decisions say; the new leader took over with the incident open.
            #expect(pair.gateWrites("web-b", "False") == 1)
            #expect(pair.deletions("web-b") == 1)
            let decisions = pair.sharedDecisions
            #expect(decisions.filter { $0.code == "step_applied" }.map(\.action) == ["drain", "restart"])
            #expect(decisions.filter { $0.code == "leader_took_over" }.count == 2)
            #expect(await pair.leadership("healer-b") == Leadership(leading: true, holder: "healer-b"))
        }
    }

    @Test func aStoppedLeaderThatResumesActsOnNothingAndFollows() async throws {
        try await Self.withPair { pair, sick in
            try await Self.startLeaderThenFollower(pair)
            sick.set(["web-b"])
            try await waitUntil("web-b drained by the leader", timeout: .seconds(30)) { pair.gate("web-b") == "False" }
            let stopped = try #require(pair.process("healer-a"))
            kill(-stopped.pid, SIGSTOP)
            try await waitUntil("healer-b to lead", timeout: .seconds(30)) { pair.holder == "healer-b" }
            try await waitUntil("web-b restarted by the new leader", timeout: .seconds(30)) {
                pair.cluster.object("pods", namespace: "shop", name: "web-b") == nil
            }
            let requestsBefore = pair.cluster.requests.count
            kill(-stopped.pid, SIGCONT)
            try await waitUntil("healer-a to follow", timeout: .seconds(30)) {
                await pair.leadership("healer-a") == Leadership(leading: false, holder: "healer-b")
            }
            // Resumed, it wrote nothing: no gate, no delete, no state, no lease taken back.
            let after = pair.cluster.requests.dropFirst(requestsBefore)
            #expect(!after.contains { $0.method == "PATCH" && $0.path.hasSuffix("/pods/web-b/status") })
            #expect(pair.gateWrites("web-b", "False") == 1 && pair.deletions("web-b") == 1)
            #expect(pair.holder == "healer-b")
            let map = pair.cluster.object("configmaps", namespace: "shop", name: "healer-state")
            #expect(map?.value(at: "data.holder") == "healer-b" && map?.value(at: "data.epoch") == "1")
        }
    }

    @Test func withTheAPIServerUnreachableTheLeaderStepsDownAndNothingActsUntilItReturns() async throws {
        try await Self.withPair { pair, sick in
            try await Self.startLeaderThenFollower(pair)
            pair.cluster.beginOutage("/leases/")
            pair.cluster.beginOutage("/configmaps/")
            try await waitUntil("healer-a to step down", timeout: .seconds(30)) { await pair.leadership("healer-a")?.leading == false }
            sick.set(["web-b"])
            // Nobody leads: both judge web-b, neither touches it. (Passes run every 0.5 s; firing takes 1 s.)
            let deadline = ContinuousClock.now.advanced(by: .seconds(4))
            while ContinuousClock.now < deadline {
                #expect(pair.gate("web-b") == "True")
                let (a, b) = (await pair.leadership("healer-a"), await pair.leadership("healer-b"))
                #expect(a?.leading != true && b?.leading != true)
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(pair.gateWrites("web-b", "False") == 0)
            pair.cluster.endOutage("/leases/")
            pair.cluster.endOutage("/configmaps/")
            try await waitUntil("web-b drained once somebody leads again", timeout: .seconds(30)) { pair.gate("web-b") == "False" }
            #expect(pair.gateWrites("web-b", "False") == 1)
        }
    }

    @Test func anAlertDeliveredToTheFollowerIsActedOnByTheLeader() async throws {
        // Ten minutes of `for`: only a confirmed alert makes the rule fire within the test.
        try await Self.withPair(pendingFor: "10m") { pair, sick in
            try await Self.startLeaderThenFollower(pair)
            sick.set(["web-b"])
            let payload = #"""
                {"version":"4","status":"firing","receiver":"healer","groupKey":"{}:{alertname=\"PodErrorRatio\"}","alerts":[
                {"status":"firing","labels":{"alertname":"PodErrorRatio","namespace":"shop","pod":"web-b"},
                 "startsAt":"2026-11-30T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"a1b2c3"}]}
                """#
            let follower = "http://127.0.0.1:\(pair.ports["healer-b"] ?? 0)"
            let response = try await HTTPClient().execute(
                HTTPRequest(
                    method: .post, url: follower + "/api/v1/alerts", headers: [HTTPHeader("Content-Type", "application/json")],
                    body: Data(payload.utf8)))
            // The leader's own answer comes back: it accepted the alert.
            #expect(response.status == 200 && response.text.contains(#""accepted":1"#), "\(response.text)")
            try await waitUntil("web-b drained by the leader on the confirmed alert", timeout: .seconds(30)) { pair.gate("web-b") == "False" }
            let metrics = try await HTTPClient().get(follower + "/metrics").text
            #expect(metrics.contains(#"healer_alerts_received_total{status="forwarded"} 1"#))
        }
    }

    @Test func gracefulShutdownReleasesTheLeaseAndTheOtherReplicaLeads() async throws {
        try await Self.withPair { pair, _ in
            try await Self.startLeaderThenFollower(pair)
            let leader = try #require(pair.process("healer-a"))
            kill(leader.pid, SIGTERM)
            let status = try await eventually("healer-a to exit", timeout: .seconds(30)) { leader.exitStatus() }
            #expect(status == 0)
            // It let go of the lease on its way out (holder emptied), so the other did not wait for it to expire.
            #expect(
                pair.cluster.requests.contains {
                    $0.method == "PUT" && $0.path.hasSuffix("/leases/healer") && $0.body.contains(#""holderIdentity":"""#)
                })
            try await waitUntil("healer-b to lead", timeout: .seconds(30)) {
                await pair.leadership("healer-b") == Leadership(leading: true, holder: "healer-b")
            }
        }
    }
}
