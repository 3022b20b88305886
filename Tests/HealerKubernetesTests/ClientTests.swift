import CurlHTTP
import FakeKubernetes
import Foundation
import HealerKubernetes
import HealerTesting
import Synchronization
import Testing

@Suite("Kubernetes client against the fake API server")
struct ClientTests {
    static let gate = "healer.dev/serving"

    static func pod(_ name: String, labels: JSONValue = ["app": "web"]) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(name), "namespace": "shop", "labels": labels,
                "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9c", "uid": "rs-uid", "controller": true]],
            ],
            "spec": ["nodeName": "node-1", "readinessGates": [["conditionType": .string(gate)]], "containers": [["name": "app"]]],
            "status": [
                "phase": "Running",
                "conditions": [["type": "PodScheduled", "status": "True"], ["type": "ContainersReady", "status": "True"]],
            ],
        ]
    }

    static func withCluster(token: String = "t0ken", _ body: (FakeKubernetesAPIServer, KubernetesClient) async throws -> Void) async throws {
        try await FakeKubernetesAPIServer.with(token: token, terminationDelay: nil) { server in
            try server.create(["apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "web-7d9c", "namespace": "shop"]])
            for name in ["web-a", "web-b"] { try server.create(pod(name)) }
            let client = KubernetesClient(connection: KubernetesConnection(server: server.url, namespace: "shop", credentials: .bearer(token)))
            try await body(server, client)
        }
    }

    @Test func aReadinessGateIsSetByStrategicMergeKeepingTheKubeletsConditions() async throws {
        try await Self.withCluster { server, client in
            let pod = try await client.pod("web-a", namespace: "shop")
            #expect(pod.declaresGate(Self.gate))
            #expect(pod.condition("Ready")?.status == "False")
            let serving = try await client.setConditions(
                [PodCondition(type: Self.gate, status: "True", reason: "Healthy")], pod: "web-a", namespace: "shop", uid: pod.metadata.uid)
            #expect(serving.condition(Self.gate)?.status == "True")
            #expect(serving.condition("Ready")?.status == "True")
            #expect(serving.condition("ContainersReady")?.status == "True" && serving.condition("PodScheduled") != nil)
            let drained = try await client.setConditions(
                [PodCondition(type: Self.gate, status: "False", reason: "HealerDrained")], pod: "web-a", namespace: "shop", uid: pod.metadata.uid)
            #expect(drained.condition("Ready")?.status == "False")
            #expect(drained.status?.conditions?.count == 4)
            let patch = try #require(server.requests.last { $0.method == "PATCH" })
            #expect(patch.path == "/api/v1/namespaces/shop/pods/web-a/status")
            #expect(patch.contentType == "application/strategic-merge-patch+json")
        }
    }

    @Test func aDeleteNamesTheUIDSoAReplacementIsNeverDeleted() async throws {
        try await Self.withCluster { server, client in
            let original = try await client.pod("web-a", namespace: "shop")
            try await client.deletePod("web-a", namespace: "shop", uid: original.metadata.uid)
            let replacement = try #require(try await client.pods(namespace: "shop").first { $0.metadata.name.hasPrefix("web-7d9c-") })
            // A delete meant for the original must not remove its replacement, even under the same name.
            server.modify("pods", namespace: "shop", name: replacement.metadata.name) { _ in }
            do throws(KubernetesError) {
                try await client.deletePod(replacement.metadata.name, namespace: "shop", uid: original.metadata.uid)
                Issue.record("the replacement was deleted")
            } catch {
                #expect(error.code == 409 && error.reason == "Conflict" && error.retry == .afterRereading)
            }
            #expect(server.object("pods", namespace: "shop", name: replacement.metadata.name) != nil)
        }
    }

    @Test func anEvictionABudgetRefusesBacksOffAndSucceedsWhenItAllows() async throws {
        try await Self.withCluster { server, client in
            try server.create([
                "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": ["name": "web", "namespace": "shop"],
                "spec": ["minAvailable": 2, "selector": ["matchLabels": ["app": "web"]]],
                "status": ["disruptionsAllowed": 0, "currentHealthy": 2, "desiredHealthy": 2],
            ])
            let pod = try await client.pod("web-a", namespace: "shop")
            do throws(KubernetesError) {
                try await client.evictPod("web-a", namespace: "shop", uid: pod.metadata.uid)
                Issue.record("evicted against the budget")
            } catch {
                #expect(error.code == 429 && error.retry == .withBackoff)
                guard case .status(let status) = error else {
                    Issue.record("\(error)")
                    return
                }
                #expect(status.causes == ["DisruptionBudget"])
            }
            #expect(server.object("pods", namespace: "shop", name: "web-a") != nil)
            server.modify("poddisruptionbudgets", namespace: "shop", name: "web") { $0.set(1, at: "status.disruptionsAllowed") }
            try await client.evictPod("web-a", namespace: "shop", uid: pod.metadata.uid)
            #expect(server.object("pods", namespace: "shop", name: "web-a")?.value(at: "metadata.deletionTimestamp") != nil)
            server.finishTerminating()
            #expect(server.object("pods", namespace: "shop", name: "web-a") == nil)
            let evictions = server.requests.filter { $0.path == "/api/v1/namespaces/shop/pods/web-a/eviction" }
            #expect(evictions.map(\.method) == ["POST", "POST"])
            #expect(!server.requests.contains { $0.method == "DELETE" })
        }
    }

    @Test func listsFollowEveryPageAndSelectors() async throws {
        try await Self.withCluster { server, client in
            for index in 0..<5 { try server.create(Self.pod("api-\(index)", labels: ["app": "api", "tier": index % 2 == 0 ? "gold" : "silver"])) }
            let all = try await client.pods(namespace: "shop", pageSize: 2)
            #expect(all.map(\.metadata.name) == ["api-0", "api-1", "api-2", "api-3", "api-4", "web-a", "web-b"])
            #expect(server.requests.filter { $0.method == "GET" && $0.path == "/api/v1/namespaces/shop/pods" }.count == 4)
            let gold = try await client.pods(namespace: "shop", labelSelector: "app=api,tier in (gold)", fieldSelector: "spec.nodeName=node-1")
            #expect(gold.map(\.metadata.name) == ["api-0", "api-2", "api-4"])
            // An expired continue token (410 Gone) starts the list again.
            server.failNext("GET", pathSuffix: "/pods", with: .gone)
            #expect(try await client.pods(namespace: "shop", pageSize: 100).count == 7)
        }
    }

    @Test(arguments: [
        (FakeAPIError.notFound(resource: "pods", name: "x"), 404, "NotFound", KubernetesError.Retry.never),
        (.conflict(resource: "pods", name: "x", message: "modified"), 409, "Conflict", .afterRereading),
        (.invalid("bad"), 422, "Invalid", .never),
        (.tooManyRequests(message: "slow down", cause: nil, retryAfterSeconds: 7), 429, "TooManyRequests", .after(.seconds(7))),
        (.tooManyRequests(message: "slow down", cause: nil, retryAfterSeconds: nil), 429, "TooManyRequests", .withBackoff),
        (.gone, 410, "Expired", .relist),
        (.internalError("boom"), 500, "InternalError", .withBackoff),
        (.unauthorized, 401, "Unauthorized", .never),
    ])
    func everyFailureIsTypedWithItsRetryRule(injected: FakeAPIError, code: Int, reason: String, retry: KubernetesError.Retry) async throws {
        try await Self.withCluster { server, client in
            server.failNext("GET", pathSuffix: "/pods/web-a", with: injected)
            do throws(KubernetesError) {
                _ = try await client.pod("web-a", namespace: "shop")
                Issue.record("no failure")
            } catch {
                #expect(error.code == code)
                #expect(error.reason == reason)
                #expect(error.retry == retry)
            }
        }
    }

    @Test func noAnswerIsATransportFailureToRetry() async throws {
        let port = try FreePort.next()
        let client = KubernetesClient(connection: KubernetesConnection(server: "http://127.0.0.1:\(port)"))
        do throws(KubernetesError) {
            _ = try await client.pod("web-a", namespace: "shop")
            Issue.record("an answer from nowhere")
        } catch {
            guard case .transport = error else {
                Issue.record("\(error)")
                return
            }
            #expect(error.retry == .withBackoff)
        }
    }

    @Test func aRotatedTokenFileIsReadAgain() async throws {
        let directory = try TemporaryDirectory(prefix: "token")
        defer { directory.remove() }
        let tokenPath = try directory.write("token", "first\n")
        try await ScriptedHTTPServer.with({ request in
            .json(#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-a","uid":"u1"}}"#)
        }) { server in
            let client = KubernetesClient(connection: KubernetesConnection(server: server.url, credentials: .bearerTokenFile(tokenPath)))
            _ = try await client.pod("web-a", namespace: "shop")
            // Kubernetes rotates a projected token by swapping the file.
            _ = try directory.write("token.new", "second\n")
            _ = rename(directory.path + "/token.new", tokenPath)
            _ = try await client.pod("web-a", namespace: "shop")
            #expect(server.requests.map { $0.header("Authorization") } == ["Bearer first", "Bearer second"])
        }
    }

    @Test func anExecPluginsTokenIsUsedAndFetchedAgainWhenRefused() async throws {
        let directory = try TemporaryDirectory(prefix: "exec")
        defer { directory.remove() }
        let counter = directory.path + "/runs"
        let plugin = try directory.write(
            "plugin.sh",
            """
            #!/bin/sh
            echo x >> \(counter)
            runs=$(wc -l < \(counter))
            echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"token-$runs\\",\\"expirationTimestamp\\":\\"2999-01-01T00:00:00Z\\"}}"
            """)
        chmod(plugin, 0o755)
        let accepted = Mutex("token-1")
        try await ScriptedHTTPServer.with({ request in
            guard request.header("Authorization") == "Bearer \(accepted.withLock { $0 })" else {
                return .json(#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}"#, status: 401)
            }
            return .json(#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-a","uid":"u1"}}"#)
        }) { server in
            let connection = KubernetesConnection(
                server: server.url, credentials: .exec(ExecPlugin(command: plugin, apiVersion: "client.authentication.k8s.io/v1")))
            let client = KubernetesClient(connection: connection)
            _ = try await client.pod("web-a", namespace: "shop")
            _ = try await client.pod("web-a", namespace: "shop")  // cached: the plugin ran once
            accepted.withLock { $0 = "token-2" }  // the server no longer takes the first token
            _ = try await client.pod("web-a", namespace: "shop")
            #expect(
                server.requests.map { $0.header("Authorization") ?? "" } == ["Bearer token-1", "Bearer token-1", "Bearer token-1", "Bearer token-2"])
        }
    }
}
