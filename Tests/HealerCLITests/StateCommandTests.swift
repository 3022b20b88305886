import FakeKubernetes
import Foundation
import HealerCore
import HealerKubernetes
import HealerStore
import HealerTesting
import Testing

/// `healer state export|import`, run as a user would: from a single instance's SQLite file to the ConfigMap of two
/// replicas, refused where it would overwrite a running leader's state or a state that is there.
@Suite("healer state export and import")
struct StateCommandTests {
    static let record = DecisionRecord(time: Date(timeIntervalSince1970: 1_800_000_000), kind: .pool, pool: "web", because: .operatorPaused(true))

    /// A configuration with its SQLite state at `state.db` and, with `kubeconfig`, `ha:` on that cluster.
    static func configuration(_ directory: TemporaryDirectory, kubeconfig: String?, lease: String = "{}") throws -> String {
        try directory.write(
            "rules.yaml",
            "groups: [{ name: web, pool: web, rules: [{ name: E, expr: e, unhealthy: \"> 1\", healthy: \"< 1\", ladder: [{ quarantine: {} }] }] }]")
        let ha = kubeconfig.map { "ha: { kubeconfig: \"\($0)\", lease: \(lease) }" } ?? ""
        try directory.write(
            "healer.yaml",
            """
            prometheus: { url: "http://127.0.0.1:9090" }
            pools: { web: { backend: be } }
            rules: [rules.yaml]
            safety: { dry_run: true }
            state: { path: "\(directory.path)/state.db" }
            \(ha)
            """)
        return directory.path + "/healer.yaml"
    }

    /// A state with pool web paused, and one decision, in the SQLite file of `directory`.
    static func seed(_ directory: TemporaryDirectory) async throws {
        let store = try await SQLiteStateStore.open(path: directory.path + "/state.db")
        var state = EngineState(maxActionsPerMinute: 6)
        state.pause.pools = ["web"]
        try await store.save(state, appending: [record])
        await store.close()
    }

    @Test func aSingleInstancesStateMovesToTheReplicasConfigMapAndTheirFirstLeaderResumesIt() async throws {
        let healer = try BuiltProduct.path("healer")
        try await FakeKubernetesAPIServer.with { cluster in
            try await TemporaryDirectory.with(prefix: "state") { directory in
                let kubeconfig = try cluster.writeKubeconfig(in: directory.path, namespace: "ops")
                let config = try Self.configuration(directory, kubeconfig: kubeconfig)
                try await Self.seed(directory)
                let exported = try await Command.execute(
                    healer, ["state", "export", "--config", config, "--store", "sqlite", "-o", directory.path + "/state.json"], in: directory.path)
                #expect(exported.status == 0, "\(exported.output)")
                #expect(
                    exported.output.contains(
                        "exported 0 open incidents and 1 decision from \(directory.path)/state.db to \(directory.path)/state.json"))
                let document = try #require(
                    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.path + "/state.json"))) as? [String: Any])
                #expect(document["kind"] as? String == "HealerState" && document["format"] as? Int == EngineState.currentVersion)

                let imported = try await Command.execute(
                    healer, ["state", "import", "--config", config, "-i", directory.path + "/state.json"], in: directory.path)
                #expect(imported.status == 0, "\(imported.output)")
                #expect(imported.output.contains("into configmap/healer-state"))
                let map = try #require(cluster.object("configmaps", namespace: "ops", name: "healer-state"))
                #expect(map.value(at: "data.holder")?.string?.hasPrefix("healer-state-import_") == true && map.value(at: "data.epoch") == "0")
                // Import took the Lease and let it go: the replicas' first leader leads in a later term, and takes it over.
                let lease = try #require(cluster.object("leases", namespace: "ops", name: "healer", apiVersion: "coordination.k8s.io/v1"))
                #expect(lease.value(at: "spec.holderIdentity") == "")
                let store = ConfigMapStateStore(
                    client: KubernetesClient(connection: KubernetesConnection(server: cluster.url, namespace: "ops")), name: "healer-state",
                    namespace: "ops")
                #expect(try await store.takeOver(LeaderTerm(epoch: 1, holder: "healer-a"))?.pause.pools == ["web"])
                #expect(try await store.recentRecords(limit: 10).map(\.code) == [.operatorPaused])

                // Back again, from the ConfigMap to the SQLite file, which holds a state: only with --replace.
                let back = try await Command.execute(
                    healer, ["state", "export", "--config", config, "-o", directory.path + "/back.json"], in: directory.path)
                #expect(back.status == 0, "\(back.output)")
                let refused = try await Command.execute(
                    healer, ["state", "import", "--config", config, "--store", "sqlite", "-i", directory.path + "/back.json"], in: directory.path)
                #expect(refused.status == 1 && refused.output.contains("already holds a state"), "\(refused.output)")
                let replaced = try await Command.execute(
                    healer, ["state", "import", "--config", config, "--store", "sqlite", "-i", directory.path + "/back.json", "--replace"],
                    in: directory.path)
                #expect(replaced.status == 0, "\(replaced.output)")
            }
        }
    }

    @Test func importIsRefusedWhileAReplicaHoldsTheLease() async throws {
        let healer = try BuiltProduct.path("healer")
        try await FakeKubernetesAPIServer.with { cluster in
            try await TemporaryDirectory.with(prefix: "state") { directory in
                let kubeconfig = try cluster.writeKubeconfig(in: directory.path, namespace: "ops")
                let config = try Self.configuration(
                    directory, kubeconfig: kubeconfig, lease: "{ duration: 2s, renew_deadline: 1500ms, retry_period: 500ms }")
                try await Self.seed(directory)
                _ = try await Command.execute(
                    healer, ["state", "export", "--config", config, "--store", "sqlite", "-o", directory.path + "/state.json"], in: directory.path)
                try cluster.create([
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "healer", "namespace": "ops"],
                    "spec": [
                        "holderIdentity": "healer-a_1234", "leaseDurationSeconds": 2, "renewTime": .string(KubernetesTime.micro(Date())),
                        "leaseTransitions": 3,
                    ],
                ])
                // The holder renews after each read of the importer, as a live replica renews between its rounds.
                let renewer = Task {
                    let reads = { cluster.requests.filter { $0.method == "GET" && $0.path.hasSuffix("/leases/healer") }.count }
                    var seen = 0
                    while !Task.isCancelled {
                        guard (try? await waitUntil("the importer to read the lease", timeout: .seconds(60)) { reads() > seen }) != nil else {
                            return
                        }
                        seen = reads()
                        cluster.modify("leases", namespace: "ops", name: "healer") {
                            $0["spec"]?["renewTime"] = .string(KubernetesTime.micro(Date()))
                        }
                    }
                }
                defer { renewer.cancel() }
                let refused = try await Command.execute(
                    healer, ["state", "import", "--config", config, "-i", directory.path + "/state.json"], in: directory.path)
                #expect(refused.status == 1 && refused.output.contains("healer-a_1234 holds the Lease ops/healer"), "\(refused.output)")
                #expect(cluster.object("configmaps", namespace: "ops", name: "healer-state") == nil)
            }
        }
    }

    @Test func aBrokenDocumentIsRefusedNamingTheFileAndTheField() async throws {
        let healer = try BuiltProduct.path("healer")
        try await TemporaryDirectory.with(prefix: "state") { directory in
            let config = try Self.configuration(directory, kubeconfig: nil)
            try directory.write("other.json", #"{"status":"success"}"#)
            let foreign = try await Command.execute(
                healer, ["state", "import", "--config", config, "-i", directory.path + "/other.json"], in: directory.path)
            #expect(foreign.status == 1 && foreign.output.contains("\(directory.path)/other.json is not a state exported by `healer state export`"))
            try directory.write(
                "broken.json", #"{"kind":"HealerState","format":2,"exportedAt":"x","source":"y","state":{"version":"two"},"decisions":[]}"#)
            let broken = try await Command.execute(
                healer, ["state", "import", "--config", config, "-i", directory.path + "/broken.json"], in: directory.path)
            #expect(broken.status == 1 && broken.output.contains("\(directory.path)/broken.json: state.version"), "\(broken.output)")
            #expect(!FileManager.default.fileExists(atPath: directory.path + "/state.db"))  // nothing half-applied
        }
    }
}
