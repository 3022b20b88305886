import FakeKubernetes
import Foundation
import HealerTesting
import Testing

/// The fake API server answers real kubectl as the real API server does: discovery, Tables, the status
/// subresource, deletes with preconditions, evictions through `kubectl drain`, Events through `kubectl describe`.
@Suite("Fake API server, driven by kubectl")
struct KubectlTests {
    static let namespace = "shop"

    /// A pod of ReplicaSet `web-7d9c` with readiness gate `healer.dev/serving`, running on `node-1`.
    static func pod(_ name: String, gate: Bool = true) -> JSONValue {
        var pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(name), "namespace": .string(namespace), "labels": ["app": "web"],
                "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9c", "uid": "rs-uid", "controller": true]],
            ],
            "spec": ["nodeName": "node-1", "containers": [["name": "app", "image": "web:1"]]],
            "status": [
                "phase": "Running", "podIP": "10.0.0.7",
                "conditions": [["type": "PodScheduled", "status": "True"], ["type": "ContainersReady", "status": "True"]],
                "containerStatuses": [["name": "app", "ready": true, "restartCount": 0]],
            ],
        ]
        if gate { pod.set([["conditionType": "healer.dev/serving"]], at: "spec.readinessGates") }
        return pod
    }

    /// A cluster with pods `web-a`, `web-b` of ReplicaSet `web-7d9c` on `node-1`, and kubectl pointed at it.
    static func withCluster(_ body: (FakeKubernetesAPIServer, Kubectl) async throws -> Void) async throws {
        try await FakeKubernetesAPIServer.with { server in  // kubectl sends no credentials over plain HTTP
            try server.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
            try server.create(["apiVersion": "v1", "kind": "Node", "metadata": ["name": "node-1"], "spec": [:]])
            try server.create(["apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "web-7d9c", "namespace": .string(namespace)]])
            try server.create(pod("web-a"))
            try server.create(pod("web-b"))
            let directory = try TemporaryDirectory(prefix: "kubectl")
            defer { directory.remove() }
            let kubeconfig = try server.writeKubeconfig(in: directory.path, namespace: namespace)
            try await body(server, Kubectl(kubeconfig: kubeconfig, directory: directory.path))
        }
    }

    @Test func getPodsPrintsTheServersTable() async throws {
        try await Self.withCluster { server, kubectl in
            let output = try await kubectl.run("get", "pods", "-o", "wide")
            let lines = output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(lines.first == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"])
            #expect(lines.dropFirst().map { $0[0] } == ["web-a", "web-b"])
            #expect(lines.dropFirst().allSatisfy { $0.last == "0/1" })  // the gate's condition is missing
            #expect(server.requests.contains { $0.method == "GET" && $0.path == "/api/v1/namespaces/shop/pods" })
        }
    }

    /// A readiness-gate condition patched on `pods/status` with a strategic merge keeps the kubelet's conditions,
    /// and the kubelet's `Ready` follows the gate.
    @Test func aStrategicMergePatchOnStatusMergesConditionsByType() async throws {
        try await Self.withCluster { server, kubectl in
            try await kubectl.run(
                "patch", "pod", "web-a", "--subresource=status", "--type=strategic",
                "-p", #"{"status":{"conditions":[{"type":"healer.dev/serving","status":"True"}]}}"#)
            let patched = try #require(server.requests.last { $0.method == "PATCH" })
            #expect(patched.path == "/api/v1/namespaces/shop/pods/web-a/status")
            #expect(patched.contentType == "application/strategic-merge-patch+json")
            let pod = try #require(server.object("pods", namespace: "shop", name: "web-a"))
            let conditions = (pod.value(at: "status.conditions")?.array ?? []).compactMap { condition in
                condition["type"]?.string.map { ($0, condition["status"]?.string ?? "") }
            }
            #expect(
                Dictionary(uniqueKeysWithValues: conditions) == [
                    "PodScheduled": "True", "ContainersReady": "True", "healer.dev/serving": "True", "Ready": "True",
                ])
            let wide = try await kubectl.run("get", "pod", "web-a", "-o", "wide", "--no-headers")
            #expect(
                wide.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init)?.trimmingCharacters(in: .whitespacesAndNewlines)
                    == "1/1")
        }
    }

    /// A deleted pod of a ReplicaSet is replaced by one with another name and uid, ready but for its gate.
    @Test func aDeletedPodIsReplacedByItsReplicaSet() async throws {
        try await Self.withCluster { server, kubectl in
            let uid = try #require(server.object("pods", namespace: "shop", name: "web-a")?.value(at: "metadata.uid"))
            try await kubectl.run("delete", "pod", "web-a")
            #expect(server.requests.contains { $0.method == "DELETE" && $0.path == "/api/v1/namespaces/shop/pods/web-a" })
            let pods = server.objects("pods", namespace: "shop")
            let replacement = try #require(pods.first { $0.value(at: "metadata.name")?.string?.hasPrefix("web-7d9c-") == true })
            #expect(pods.count == 2 && replacement.value(at: "metadata.uid") != uid)
            #expect(
                replacement.value(at: "metadata.ownerReferences")
                    == server.object("pods", namespace: "shop", name: "web-b")?.value(at: "metadata.ownerReferences"))
            let conditions = replacement.value(at: "status.conditions")?.array ?? []
            #expect(conditions.first { $0["type"] == "Ready" }?["status"] == "False")
            let listed = try await kubectl.run("get", "pods", "--no-headers")
            #expect(listed.contains(replacement.value(at: "metadata.name")?.string ?? "?") && !listed.contains("web-a "))
        }
    }

    /// `kubectl describe pod` shows the Events written through `events.k8s.io/v1`.
    @Test func describeShowsEventsWrittenThroughEventsV1() async throws {
        try await Self.withCluster { server, kubectl in
            let pod = try #require(server.object("pods", namespace: "shop", name: "web-a"))
            try server.create([
                "apiVersion": "events.k8s.io/v1", "kind": "Event",
                "metadata": ["name": "web-a.healer.1", "namespace": "shop"],
                "eventTime": "2026-11-30T08:00:00.000000Z", "reportingController": "healer.dev/healer", "reportingInstance": "healer-0",
                "action": "Drain", "reason": "HealerDrained", "type": "Warning", "note": "step 1: drain (error ratio 0.3)",
                "regarding": [
                    "apiVersion": "v1", "kind": "Pod", "name": "web-a", "namespace": "shop", "uid": pod.value(at: "metadata.uid") ?? "",
                ],
            ])
            let described = try await kubectl.run("describe", "pod", "web-a")
            let eventLine = described.split(separator: "\n").first { $0.contains("HealerDrained") }.map(String.init) ?? ""
            #expect(eventLine.contains("Warning") && eventLine.contains("healer.dev/healer") && eventLine.contains("step 1: drain"), "\(described)")
            let events = try await kubectl.run("get", "events")
            #expect(events.contains("HealerDrained") && events.contains("pod/web-a"), "\(events)")
        }
    }

    /// `kubectl drain` evicts through `POST …/eviction` (not a DELETE) and waits for the pods to go.
    @Test func drainEvictsThroughTheEvictionSubresource() async throws {
        try await Self.withCluster { server, kubectl in
            try await kubectl.run("drain", "node-1", "--ignore-daemonsets", "--timeout=20s")
            let evictions = server.requests.filter { $0.method == "POST" && $0.path.hasSuffix("/eviction") }.map(\.path)
            #expect(Set(evictions) == ["/api/v1/namespaces/shop/pods/web-a/eviction", "/api/v1/namespaces/shop/pods/web-b/eviction"])
            #expect(!server.requests.contains { $0.method == "DELETE" })
            let node = try #require(server.object("nodes", namespace: "", name: "node-1"))
            #expect(node.value(at: "spec.unschedulable") == .bool(true))
        }
    }
}

/// kubectl with a kubeconfig.
struct Kubectl {
    var kubeconfig: String
    var directory: String

    /// Runs kubectl; its output, or a thrown error with it.
    @discardableResult
    func run(_ arguments: String...) async throws -> String {
        try await Command.run(
            ["kubectl", "--kubeconfig", kubeconfig] + arguments, package: "kubernetes-client", in: directory, timeout: .seconds(30))
    }

    /// Runs kubectl; its exit status and output, whatever the status.
    func execute(_ arguments: String...) async throws -> Command.Outcome {
        try await Command.execute(
            try Executable.find("kubectl", package: "kubernetes-client"), ["--kubeconfig", kubeconfig] + arguments, in: directory,
            timeout: .seconds(30))
    }
}
