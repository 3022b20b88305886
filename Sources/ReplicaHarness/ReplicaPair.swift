import CurlHTTP
public import FakeKubernetes
import Foundation
public import HealerCore
public import HealerTesting
import Synchronization

/// Two `healer run` processes with `ha:` against the fake API server, for the failover tests and bench/failover.sh.
///
/// The pool is three pods in namespace `shop`: their readiness gates and deletions are the only writes Healer makes,
/// so the API server's request log shows every action either replica took. A scripted Prometheus answers
/// `pod_error_ratio` for the pods the API server has (0.4 for the ``Sick`` ones, else 0); the rule drains a sick pod,
/// then restarts (deletes) it.
public final class ReplicaPair: Sendable {
    /// The identities, in start order.
    public static let names = ["healer-a", "healer-b"]
    /// The pool's pods.
    public static let pods = ["web-a", "web-b", "web-c"]
    static let gate = KubernetesSettings.defaultReadinessGate

    /// Timings and the rule's.
    public struct Settings: Sendable {
        public var leaseDuration = "3s"
        public var renewDeadline = "2s"
        public var retryPeriod = "500ms"
        public var interval = "500ms"
        /// The rule's `for`.
        public var pendingFor = "1s"
        /// How long the drain is verified before the restart.
        public var drainVerify = "6s"
        /// The `healer` binary; the debug build by default.
        public var healer: String?

        public init() {}
    }

    /// The pods whose error ratio is high.
    public final class Sick: Sendable {
        private let pods = Mutex<Set<String>>([])
        public var now: Set<String> { pods.withLock { $0 } }
        public func set(_ sick: Set<String>) { pods.withLock { $0 = sick } }
        init() {}
    }

    public let cluster: FakeKubernetesAPIServer
    public let directory: TemporaryDirectory
    public let ports: [String: Int]
    public let sick: Sick
    private let processes = Mutex<[String: ManagedProcess]>([:])
    private let configuration: [String: String]
    private let healer: String

    init(cluster: FakeKubernetesAPIServer, prometheus: String, directory: TemporaryDirectory, sick: Sick, settings: Settings) throws {
        self.cluster = cluster
        self.directory = directory
        self.sick = sick
        self.healer = try settings.healer ?? BuiltProduct.path("healer")
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
                    for: \(settings.pendingFor)
                    clear_for: 60s
                    ladder:
                      - { drain: {}, verify: \(settings.drainVerify) }
                      - { restart: restart-pod, verify: 60s }
                      - { quarantine: {} }
            """)
        var ports: [String: Int] = [:]
        var configuration: [String: String] = [:]
        for name in Self.names {
            let port = try FreePort.next()
            ports[name] = port
            configuration[name] = """
                prometheus: { url: "\(prometheus)", timeout: 5s }
                balancers: { cluster: { kubernetes: { kubeconfig: "\(kubeconfig)" } } }
                actuators: { restart-pod: { kubernetes: { action: delete, grace_period: 1s } } }
                pools:
                  web: { balancer: cluster, namespace: shop, selector: app=web, min_healthy_capacity: 50% }
                rules: ["rules/*.yaml"]
                reconcile: { interval: \(settings.interval) }
                safety: { dry_run: false, cooldown: 0s, max_actions_per_minute: 60 }
                state: { path: "\(directory.path)/\(name)/state.db" }
                server: { listen: "127.0.0.1:\(port)" }
                ha:
                  kubeconfig: "\(kubeconfig)"
                  lease: { identity: \(name), duration: \(settings.leaseDuration), renew_deadline: \(settings.renewDeadline), retry_period: \(settings.retryPeriod) }
                """
        }
        self.ports = ports
        self.configuration = configuration
    }

    /// Runs `body` with the pods, the Prometheus and the pair (not started yet); stops every process it started,
    /// also on failure (then printing the replicas' logs).
    public static func with(_ settings: Settings = Settings(), _ body: (ReplicaPair) async throws -> Void) async throws {
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
                    let pair = try ReplicaPair(cluster: cluster, prometheus: prometheus.url, directory: directory, sick: sick, settings: settings)
                    do {
                        try await body(pair)
                    } catch {
                        for name in names {
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

    /// A pod of the pool (namespace `shop`, label `app=web`, owned by ReplicaSet `web-7d9c`), running and ready but for
    /// Healer's gate.
    public static func pod(_ name: String) -> JSONValue {
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

    /// Starts replica `name` and waits until it answers.
    public func start(_ name: String) async throws {
        try directory.write("\(name).yaml", configuration[name] ?? "")
        let process = try ManagedProcess.start(
            .init(
                name: name, executable: healer, arguments: ["run", "--config", directory.path + "/\(name).yaml"], directory: directory.path,
                readiness: .http(url: "http://127.0.0.1:\(ports[name] ?? 0)/healthz")))
        processes.withLock { $0[name] = process }
        try await process.waitUntilReady()
    }

    /// Starts A, waits until it leads and has every pod in service, then starts B and waits until it follows.
    public func startLeaderThenFollower() async throws {
        try await start("healer-a")
        try await waitUntil("healer-a to lead", timeout: .seconds(30)) { self.leads("healer-a") }
        try await waitUntil("every pod in service", timeout: .seconds(30)) { Self.pods.allSatisfy { self.gate($0) == "True" } }
        try await start("healer-b")
        try await waitUntil("healer-b to follow", timeout: .seconds(30)) {
            await self.sees("healer-b", leading: false, holder: "healer-a")
        }
    }

    /// The process of replica `name`, once started.
    public func process(_ name: String) -> ManagedProcess? { processes.withLock { $0[name] } }

    /// Stops every replica (resuming a stopped one first).
    public func stopAll() async {
        for process in processes.withLock({ Array($0.values) }) {
            kill(-process.pid, SIGCONT)
            await process.stop()
        }
    }

    /// Whether replica `name` (its identity, before the per-process suffix) holds the Lease, as the API server has it.
    public func leads(_ name: String) -> Bool { holder?.hasPrefix(name + "_") == true }

    /// Whether replica `replica`'s status says it leads (or not), and that `holder` (an identity before its suffix)
    /// holds the Lease.
    public func sees(_ replica: String, leading: Bool, holder: String) async -> Bool {
        guard let seen = await leadership(replica) else { return false }
        return seen.leading == leading && seen.holder?.hasPrefix(holder + "_") == true
    }

    /// The Lease's holder, as the API server has it.
    public var holder: String? {
        cluster.object("leases", namespace: "shop", name: "healer", apiVersion: "coordination.k8s.io/v1")?.value(at: "spec.holderIdentity")?.string
    }

    /// A replica's `/api/v1/status`, or `nil` when it does not answer.
    private func status(_ name: String) async -> [String: Any]? {
        guard let response = try? await HTTPClient().get("http://127.0.0.1:\(ports[name] ?? 0)/api/v1/status"), response.isSuccess else { return nil }
        return try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]
    }

    /// A replica's `leadership` in its `/api/v1/status`, or `nil` when it does not answer.
    public func leadership(_ name: String) async -> Leadership? {
        guard let leadership = await status(name)?["leadership"] as? [String: Any], let leading = leadership["leading"] as? Bool else { return nil }
        return Leadership(leading: leading, holder: leadership["holder"] as? String)
    }

    /// A replica's last pass as its `/api/v1/status` shows it: when (Unix seconds), and each pod's verdict by `rule`.
    public func lastPass(_ name: String, rule: String) async -> (time: Double, verdicts: [String: String])? {
        guard let status = await status(name), let time = status["lastPass"] as? Double else { return nil }
        var verdicts: [String: String] = [:]
        for pool in status["pools"] as? [[String: Any]] ?? [] {
            for server in pool["servers"] as? [[String: Any]] ?? [] {
                if let name = server["server"] as? String, let verdict = (server["verdicts"] as? [String: String])?[rule] {
                    verdicts[name] = verdict
                }
            }
        }
        return (time, verdicts)
    }

    /// The status of Healer's readiness gate on `pod`.
    public func gate(_ pod: String) -> String? {
        cluster.object("pods", namespace: "shop", name: pod)?.value(at: "status.conditions")?.array?
            .first { $0["type"]?.string == Self.gate }?["status"]?.string
    }

    /// Writes to `pod`'s readiness gate setting `status`, as the API server received them.
    public func gateWrites(_ pod: String, _ status: String) -> Int {
        cluster.requests.filter {
            $0.method == "PATCH" && $0.path == "/api/v1/namespaces/shop/pods/\(pod)/status" && $0.body.contains(#""status":"\#(status)""#)
        }.count
    }

    /// Deletions of `pod`, as the API server received them.
    public func deletions(_ pod: String) -> Int {
        cluster.requests.filter { $0.method == "DELETE" && $0.path == "/api/v1/namespaces/shop/pods/\(pod)" }.count
    }

    /// When the shared state was first written by `holder`'s term: its takeover, in its first pass that could act.
    public func takeover(by holder: String) -> ContinuousClock.Instant? {
        cluster.requests.first {
            ["PUT", "POST"].contains($0.method) && $0.path.contains("/configmaps") && $0.body.contains(#""holder":"\#(holder)_"#)
        }?.receivedAt
    }

    /// When `holder` first wrote the Lease as its holder: it leads from then.
    public func leaseAcquired(by holder: String) -> ContinuousClock.Instant? {
        cluster.requests.first {
            ["PUT", "POST"].contains($0.method) && $0.path.contains("/leases") && $0.body.contains(#""holderIdentity":"\#(holder)_"#)
        }?.receivedAt
    }

    /// The decisions in the shared state: their codes and actions.
    public var sharedDecisions: [(code: String, action: String?)] {
        let text = cluster.object("configmaps", namespace: "shop", name: "healer-state")?["data"]?["decisions.jsonl"]?.string ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let code = object["code"] as? String
            else { return nil }
            return (code, (object["actionType"] as? [String: Any])?["name"] as? String)
        }
    }
}
