import CurlHTTP
import Foundation
import HealerTesting
import Synchronization

/// A Kubernetes API server in a test's process: enough of the real one's behaviour, answered the way the real one
/// answers (status codes, `Status` objects, `resourceVersion`, discovery, Tables for kubectl), for Healer's client
/// and real kubectl alike. Tests drive it with kubectl to keep it honest.
///
/// Kept per resource: pods (with `status` and `eviction`), events (core `v1` and `events.k8s.io/v1`, one store),
/// nodes, namespaces, ReplicaSets, Deployments, StatefulSets, PodDisruptionBudgets and Leases. Deleting a pod a
/// ReplicaSet owns makes a replacement, as the ReplicaSet controller would; a pod's `Ready` condition follows its
/// containers and readiness gates, as the kubelet sets it. Every request is recorded.
public final class FakeKubernetesAPIServer: Sendable {
    /// A request as received.
    public struct Recorded: Sendable, CustomStringConvertible {
        public var method: String
        public var path: String
        public var query: [String: String]
        public var contentType: String?
        public var body: String
        /// When it arrived.
        public var receivedAt = ContinuousClock.now

        /// The RBAC permission the request needs: API group, resource (with its subresource) and verb, as the API
        /// server's authorizer sees it; `nil` for discovery.
        public var permission: (group: String, resource: String, verb: String)? {
            var parts = path.split(separator: "/").map(String.init)
            let group: String
            if parts.first == "api", parts.count > 2 {
                group = ""
                parts = Array(parts.dropFirst(2))
            } else if parts.first == "apis", parts.count > 3 {
                group = parts[1]
                parts = Array(parts.dropFirst(3))
            } else {
                return nil
            }
            if parts.first == "namespaces", parts.count > 2 { parts = Array(parts.dropFirst(2)) }
            guard let resource = parts.first else { return nil }
            let named = parts.count > 1
            let full = parts.count > 2 ? "\(resource)/\(parts[2])" : resource
            let verb: String =
                switch method {
                case "GET": named ? "get" : (query["watch"] == "true" ? "watch" : "list")
                case "POST": "create"
                case "PUT": "update"
                case "PATCH": "patch"
                case "DELETE": named ? "delete" : "deletecollection"
                default: method.lowercased()
                }
            return (group, full, verb)
        }

        public var description: String {
            "\(method) \(path)" + (query.isEmpty ? "" : "?" + query.map { "\($0)=\($1)" }.sorted().joined(separator: "&"))
        }
    }

    struct Key: Hashable {
        var namespace: String
        var name: String
    }

    struct Store {
        var objects: [String: [Key: JSONValue]] = [:]
        var resourceVersion = 1000
        var uid = 0
        var requests: [Recorded] = []
        var failures: [(method: String, pathSuffix: String, error: FakeAPIError, skip: Int)] = []
        /// Path parts whose requests all fail with 503 while listed.
        var outages: Set<String> = []
    }

    private let http: ScriptedHTTPServer
    private let core: Core
    /// The bearer token requests must carry; `nil` accepts any request.
    public var token: String? { core.token }

    /// `http://127.0.0.1:<port>`.
    public var url: String { http.url }

    /// Starts on a free loopback port. With `replacesPods`, a deleted pod a ReplicaSet owns is replaced; a pod deleted
    /// with a grace period stays terminating for `terminationDelay` seconds (its containers stopping) before it is
    /// gone, or until ``finishTerminating()`` when `nil`.
    public init(token: String? = nil, replacesPods: Bool = true, terminationDelay: Double? = 0.3) throws {
        let core = Core(token: token, replacesPods: replacesPods, terminationDelay: terminationDelay)
        self.core = core
        http = try ScriptedHTTPServer { request in core.handle(request) }
    }

    /// Starts a server, runs `body`, and stops the server afterwards (also when `body` throws).
    @discardableResult
    public static func with<R: Sendable>(
        token: String? = nil, terminationDelay: Double? = 0.3, _ body: (FakeKubernetesAPIServer) async throws -> R
    ) async throws -> R {
        let server = try FakeKubernetesAPIServer(token: token, terminationDelay: terminationDelay)
        defer { server.stop() }
        return try await body(server)
    }

    /// Stops serving.
    public func stop() { http.stop() }

    deinit { http.stop() }

    /// Every request so far, in order.
    public var requests: [Recorded] { core.store.withLock { $0.requests } }

    /// Makes the next request whose method is `method` and whose path ends with `pathSuffix` fail with `error` (after
    /// `skip` such requests have passed).
    public func failNext(_ method: String, pathSuffix: String, with error: FakeAPIError, after skip: Int = 0) {
        core.store.withLock { $0.failures.append((method, pathSuffix, error, skip)) }
    }

    /// Makes every request whose path contains `pathPart` (`/leases/`, `/configmaps/`) fail with 503 ServiceUnavailable
    /// until ``endOutage(_:)``: the API server, or the way to it, is down for those requests.
    public func beginOutage(_ pathPart: String) {
        core.store.withLock { _ = $0.outages.insert(pathPart) }
    }

    /// Ends an outage begun by ``beginOutage(_:)``.
    public func endOutage(_ pathPart: String) {
        core.store.withLock { _ = $0.outages.remove(pathPart) }
    }

    /// A kubeconfig for this server, written into `directory`; returns its path.
    public func writeKubeconfig(in directory: String, namespace: String = "default") throws -> String {
        let path = directory + "/kubeconfig"
        let user = token.map { "    token: \($0)\n" } ?? "    {}\n"
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: \(url)
            users:
            - name: fake
              user:
            \(user.hasPrefix("    {}") ? "    {}" : user.trimmingCharacters(in: .newlines))
            contexts:
            - name: fake
              context:
                cluster: fake
                user: fake
                namespace: \(namespace)
            current-context: fake

            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Ends the termination of every pod being deleted, as the kubelet does once its containers stop.
    public func finishTerminating() {
        core.store.withLock { store in
            let terminating = (store.objects["pods"] ?? [:]).filter { $0.value.value(at: "metadata.deletionTimestamp") != nil }.keys
            for key in terminating { store.objects["pods"]?[key] = nil }
            store.resourceVersion += 1
        }
    }

    // MARK: - Seeding and reading, for tests

    /// Creates an object as a client's POST would (uid, resourceVersion, creation time filled in).
    @discardableResult
    public func create(_ object: JSONValue) throws -> JSONValue {
        guard let apiVersion = object["apiVersion"]?.string, let kind = object["kind"]?.string,
            let type = ResourceType.all.first(where: { $0.groupVersion == apiVersion && $0.kind == kind })
        else { throw FakeAPIError.badRequest("unknown apiVersion/kind") }
        return try core.store.withLock { store in
            try Self.create(object, type: type, namespace: object.value(at: "metadata.namespace")?.string ?? "default", store: &store)
        }
    }

    /// The stored object, as `apiVersion` serves it (core `v1` unless given).
    public func object(_ resource: String, namespace: String = "default", name: String, apiVersion: String = "v1") -> JSONValue? {
        core.store.withLock { store in
            guard let type = ResourceType.find(groupVersion: apiVersion, name: resource) ?? ResourceType.all.first(where: { $0.name == resource }),
                let object = store.objects[type.storage]?[Key(namespace: type.namespaced ? namespace : "", name: name)]
            else { return nil }
            return Self.served(object, as: type)
        }
    }

    /// Every stored object of `resource` in `namespace` (every namespace when `nil`), by name.
    public func objects(_ resource: String, namespace: String? = "default") -> [JSONValue] {
        core.store.withLock { store in
            guard let type = ResourceType.all.first(where: { $0.name == resource }) else { return [] }
            return (store.objects[type.storage] ?? [:]).filter { namespace == nil || $0.key.namespace == namespace }
                .sorted { $0.key.name < $1.key.name }.map { Self.served($0.value, as: type) }
        }
    }

    /// Changes a stored object in place, as a controller of the cluster would (a new resourceVersion).
    public func modify(_ resource: String, namespace: String = "default", name: String, _ change: (inout JSONValue) -> Void) {
        core.store.withLock { store in
            guard let type = ResourceType.all.first(where: { $0.name == resource }) else { return }
            let key = Key(namespace: type.namespaced ? namespace : "", name: name)
            guard var object = store.objects[type.storage]?[key] else { return }
            change(&object)
            if type.storage == "pods" { Self.kubeletUpdatesReady(&object) }
            store.resourceVersion += 1
            object.set(.string(String(store.resourceVersion)), at: "metadata.resourceVersion")
            store.objects[type.storage]?[key] = object
        }
    }

    // MARK: - Objects

    static func create(_ object: JSONValue, type: ResourceType, namespace: String, store: inout Store) throws -> JSONValue {
        var object = object
        var name = object.value(at: "metadata.name")?.string ?? ""
        if name.isEmpty, let prefix = object.value(at: "metadata.generateName")?.string {
            store.uid += 1
            name = prefix + String(format: "%05x", store.uid)
            object.set(.string(name), at: "metadata.name")
        }
        guard !name.isEmpty else { throw FakeAPIError.invalid("metadata.name: Required value: name or generateName is required") }
        let key = Key(namespace: type.namespaced ? namespace : "", name: name)
        if store.objects[type.storage]?[key] != nil { throw FakeAPIError.alreadyExists(resource: qualified(type), name: name) }
        store.uid += 1
        store.resourceVersion += 1
        if type.namespaced { object.set(.string(namespace), at: "metadata.namespace") }
        object.set(.string(String(format: "00000000-0000-4000-8000-%012x", store.uid)), at: "metadata.uid")
        object.set(.string(String(store.resourceVersion)), at: "metadata.resourceVersion")
        object.set(.string(Timestamps.seconds(Date())), at: "metadata.creationTimestamp")
        if type.storage == "pods" {
            if object.value(at: "status.phase") == nil { object.set("Pending", at: "status.phase") }
            kubeletUpdatesReady(&object)
        }
        if type.storage == "events" { object = stored(object, from: type) }
        store.objects[type.storage, default: [:]][key] = object
        return object
    }

    /// The ReplicaSet controller: a deleted pod a ReplicaSet owns is replaced by a new one of the same template,
    /// running, its containers ready (its readiness gates, if any, still to be set).
    static func replace(_ pod: JSONValue, store: inout Store) throws {
        guard let owner = pod.value(at: "metadata.ownerReferences")?.array?.first(where: { $0["kind"]?.string == "ReplicaSet" }),
            let ownerName = owner["name"]?.string, let namespace = pod.value(at: "metadata.namespace")?.string,
            store.objects["replicasets"]?[Key(namespace: namespace, name: ownerName)] != nil
        else { return }
        var replacement: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["generateName": .string(ownerName + "-"), "labels": pod.value(at: "metadata.labels") ?? [:], "ownerReferences": [owner]],
            "spec": pod["spec"] ?? [:],
        ]
        replacement.set(
            [
                "phase": "Running", "podIP": .string("10.0.0.\(store.uid % 250 + 2)"),
                "conditions": [
                    ["type": "PodScheduled", "status": "True"], ["type": "Initialized", "status": "True"],
                    ["type": "ContainersReady", "status": "True"],
                ],
                "containerStatuses": .array(
                    (pod.value(at: "spec.containers")?.array ?? []).map { ["name": $0["name"] ?? "app", "ready": true, "restartCount": 0] }),
            ], at: "status")
        replacement.set(.string(pod.value(at: "spec.nodeName")?.string ?? "node-1"), at: "spec.nodeName")
        let pods = ResourceType.all.first { $0.storage == "pods" }!
        _ = try create(replacement, type: pods, namespace: namespace, store: &store)
    }

    /// The kubelet's `Ready` condition: `True` when `ContainersReady` is and every readiness gate's condition is
    /// `True` (a gate whose condition is missing keeps the pod not ready).
    static func kubeletUpdatesReady(_ pod: inout JSONValue) {
        guard var conditions = pod.value(at: "status.conditions")?.array else { return }
        guard conditions.contains(where: { $0["type"]?.string == "ContainersReady" }) else { return }
        let gates = (pod.value(at: "spec.readinessGates")?.array ?? []).compactMap { $0["conditionType"]?.string }
        let status = { (type: String) in conditions.first { $0["type"]?.string == type }?["status"]?.string }
        let ready = status("ContainersReady") == "True" && gates.allSatisfy { status($0) == "True" }
        let value: JSONValue = ready ? "True" : "False"
        if let index = conditions.firstIndex(where: { $0["type"]?.string == "Ready" }) {
            guard conditions[index]["status"] != value else { return }
            conditions[index]["status"] = value
            conditions[index]["lastTransitionTime"] = .string(Timestamps.seconds(Date()))
        } else {
            conditions.append(["type": "Ready", "status": value, "lastTransitionTime": .string(Timestamps.seconds(Date()))])
        }
        if !ready, !gates.isEmpty, let index = conditions.firstIndex(where: { $0["type"]?.string == "Ready" }) {
            let missing = gates.filter { status($0) != "True" }
            if !missing.isEmpty { conditions[index]["reason"] = "ReadinessGatesNotReady" }
            conditions[index]["message"] = .string("corresponding condition of pod readiness gate \"\(missing.first ?? "")\" does not exist.")
            if missing.allSatisfy({ status($0) != nil }) {
                conditions[index]["message"] = .string("the status of pod readiness gate \"\(missing.first ?? "")\" is not \"True\", but False")
            }
        } else if ready, let index = conditions.firstIndex(where: { $0["type"]?.string == "Ready" }) {
            conditions[index]["reason"] = nil
            conditions[index]["message"] = nil
        }
        pod.set(.array(conditions), at: "status.conditions")
    }

    static func qualified(_ type: ResourceType) -> String {
        type.group.isEmpty ? type.name : "\(type.name).\(type.group)"
    }

    /// An object as `type`'s version serves it (events differ between `v1` and `events.k8s.io/v1`).
    static func served(_ stored: JSONValue, as type: ResourceType) -> JSONValue {
        var object = stored
        object["apiVersion"] = .string(type.groupVersion)
        object["kind"] = .string(type.kind)
        guard type.storage == "events", type.group == "events.k8s.io" else { return object }
        return EventVersions.toEventsV1(object)
    }

    /// An object as it is stored (core `v1` for events).
    static func stored(_ served: JSONValue, from type: ResourceType) -> JSONValue {
        guard type.storage == "events", type.group == "events.k8s.io" else { return served }
        return EventVersions.toCoreV1(served)
    }

    static func split(_ target: String) -> (String, [String: String]) {
        let parts = target.split(separator: "?", maxSplits: 1)
        var query: [String: String] = [:]
        for pair in parts.dropFirst().first?.split(separator: "&") ?? [] {
            // Go's url.Values writes a space as "+".
            let field = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            query[field[0]] = field.count > 1 ? field[1] : ""
        }
        return (String(parts.first ?? ""), query)
    }
}

/// What the HTTP server's handler holds: the store and the rules, nothing of the wrapper.
final class Core: Sendable {
    typealias Store = FakeKubernetesAPIServer.Store
    typealias Key = FakeKubernetesAPIServer.Key
    typealias Recorded = FakeKubernetesAPIServer.Recorded
    typealias Server = FakeKubernetesAPIServer

    let store = Mutex(Store())
    let token: String?
    let replacesPods: Bool
    /// How long a deleted pod stays terminating; `nil`: until a test ends it.
    let terminationDelay: Double?

    init(token: String?, replacesPods: Bool, terminationDelay: Double?) {
        self.token = token
        self.replacesPods = replacesPods
        self.terminationDelay = terminationDelay
    }

    // MARK: - Requests

    func handle(_ request: ScriptedHTTPServer.Request) -> ScriptedHTTPServer.Reply {
        let (path, query) = Server.split(request.target)
        let recorded = Recorded(
            method: request.method, path: path, query: query, contentType: request.header("Content-Type"), body: request.bodyText)
        let injected = store.withLock { store -> FakeAPIError? in
            store.requests.append(recorded)
            if store.outages.contains(where: { path.contains($0) }) { return .unavailable }
            guard let index = store.failures.firstIndex(where: { $0.method == request.method && path.hasSuffix($0.pathSuffix) }) else {
                return nil
            }
            if store.failures[index].skip > 0 {
                store.failures[index].skip -= 1
                return nil
            }
            return store.failures.remove(at: index).error
        }
        do {
            if let injected { throw injected }
            if let token, request.header("Authorization") != "Bearer \(token)" { throw FakeAPIError.unauthorized }
            return try route(request, path: path, query: query)
        } catch let error as FakeAPIError {
            var headers: [HTTPHeader] = []
            if case .tooManyRequests(_, _, let retryAfter?) = error { headers.append(HTTPHeader("Retry-After", String(retryAfter))) }
            return .json(error.status.text, status: error.code, headers: headers)
        } catch {
            return .json(FakeAPIError.internalError("\(error)").status.text, status: 500)
        }
    }

    private func route(_ request: ScriptedHTTPServer.Request, path: String, query: [String: String]) throws -> ScriptedHTTPServer.Reply {
        if request.method == "GET", let document = Discovery.document(for: path) { return .json(document.text) }
        let parts = path.split(separator: "/").map(String.init)
        if request.method == "GET", parts.count == 2, parts[0] == "apis", let group = Discovery.group(parts[1]) { return .json(group.text) }
        // /api/v1/... or /apis/{group}/{version}/...
        let groupVersion: String
        var rest: ArraySlice<String>
        if parts.first == "api", parts.count >= 2 {
            groupVersion = parts[1]
            rest = parts.dropFirst(2)
        } else if parts.first == "apis", parts.count >= 3 {
            groupVersion = "\(parts[1])/\(parts[2])"
            rest = parts.dropFirst(3)
        } else {
            throw FakeAPIError.notFound(resource: "", name: path)
        }
        var namespace: String?
        if rest.first == "namespaces", rest.count >= 3 {
            namespace = rest.dropFirst().first
            rest = rest.dropFirst(2)
        }
        guard let resource = rest.first, let type = ResourceType.find(groupVersion: groupVersion, name: resource) else {
            throw FakeAPIError.notFound(resource: "", name: path)
        }
        let name = rest.dropFirst().first
        let subresource = rest.dropFirst(2).first
        let scope = type.namespaced ? namespace : ""
        let wantsTable = request.header("Accept")?.contains("as=Table") ?? false
        let body = request.body.isEmpty ? nil : try JSONValue(parsing: request.body)

        switch (request.method, name, subresource) {
        case ("GET", nil, nil):
            return .json(try list(type, namespace: scope, query: query, table: wantsTable).text)
        case ("GET", let name?, nil), ("GET", let name?, "status"):
            let object = try get(type, namespace: scope ?? "", name: name)
            return .json((wantsTable ? Tables.table(for: type, objects: [object], resourceVersion: "") : object).text)
        case ("POST", nil, nil):
            guard let body else { throw FakeAPIError.badRequest("a create needs a body") }
            if type.storage == "events", type.group == "events.k8s.io" { try EventVersions.validate(body) }
            if type.storage == "configmaps" { try ConfigMaps.validate(body) }
            let created = try store.withLock { store in
                try Server.create(body, type: type, namespace: scope ?? "default", store: &store)
            }
            return .json(Server.served(created, as: type).text, status: 201)
        case ("PUT", let name?, let sub) where sub == nil || sub == "status":
            guard let body else { throw FakeAPIError.badRequest("an update needs a body") }
            if type.storage == "configmaps" { try ConfigMaps.validate(body) }
            return .json(try update(type, namespace: scope ?? "", name: name, status: sub == "status") { _ in body }.text)
        case ("PATCH", let name?, let sub) where sub == nil || sub == "status":
            guard let body else { throw FakeAPIError.badRequest("a patch needs a body") }
            let contentType = request.header("Content-Type") ?? ""
            return .json(
                try update(type, namespace: scope ?? "", name: name, status: sub == "status", preconditionFrom: body) { current in
                    if contentType.hasPrefix("application/strategic-merge-patch+json") {
                        return Patches.strategicMerge(current, body)
                    } else if contentType.hasPrefix("application/merge-patch+json") {
                        return Patches.merge(current, body)
                    } else if contentType.hasPrefix("application/json-patch+json") {
                        return try Patches.jsonPatch(current, body)
                    }
                    throw FakeAPIError.unsupportedMediaType(contentType)
                }.text)
        case ("DELETE", let name?, nil):
            let deleted = try store.withLock { store in try self.delete(type, namespace: scope ?? "", name: name, options: body, store: &store) }
            return .json(Server.served(deleted, as: type).text)
        case ("POST", let name?, "eviction") where type.storage == "pods":
            guard let body else { throw FakeAPIError.badRequest("an eviction needs a body") }
            try evict(namespace: scope ?? "", name: name, eviction: body)
            return .json(#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}"#, status: 201)
        default:
            throw FakeAPIError.methodNotAllowed
        }
    }

    private func list(_ type: ResourceType, namespace: String?, query: [String: String], table: Bool) throws -> JSONValue {
        let labels = try query["labelSelector"].map { text throws(FakeAPIError) in try Selector(parsing: text) }
        let fields = try query["fieldSelector"].map { text throws(FakeAPIError) in try Selector(parsing: text) }
        let (items, resourceVersion) = store.withLock { store in
            let items = (store.objects[type.storage] ?? [:]).filter { namespace == nil || $0.key.namespace == namespace }
                .sorted { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }.map { Server.served($0.value, as: type) }
            return (items, String(store.resourceVersion))
        }
        var selected = items.filter { item in
            (labels?.matches { item.value(at: "metadata.labels")?[$0]?.string } ?? true)
                && (fields?.matches { item.value(at: $0)?.selectorText } ?? true)
        }
        // Pagination: `continue` is the offset of the next page.
        let offset = query["continue"].flatMap { Int($0) } ?? 0
        var next: String?
        if let limit = query["limit"].flatMap({ Int($0) }), limit > 0 {
            let end = min(selected.count, offset + limit)
            if end < selected.count { next = String(end) }
            selected = Array(selected[min(offset, selected.count)..<end])
        } else {
            selected = Array(selected.dropFirst(offset))
        }
        if table { return Tables.table(for: type, objects: selected, resourceVersion: resourceVersion, continue: next) }
        var metadata: JSONValue = ["resourceVersion": .string(resourceVersion)]
        metadata["continue"] = next.map { .string($0) }
        return [
            "kind": .string(type.kind + "List"), "apiVersion": .string(type.groupVersion), "metadata": metadata, "items": .array(selected),
        ]
    }

    private func get(_ type: ResourceType, namespace: String, name: String) throws -> JSONValue {
        guard let object = store.withLock({ $0.objects[type.storage]?[Key(namespace: namespace, name: name)] }) else {
            throw FakeAPIError.notFound(resource: Server.qualified(type), name: name)
        }
        return Server.served(object, as: type)
    }

    /// Applies `change` to the object; with `status`, only its status changes (the status subresource), otherwise
    /// everything but its status. A `metadata.resourceVersion` in the new object (or the patch) must be current.
    private func update(
        _ type: ResourceType, namespace: String, name: String, status: Bool, preconditionFrom patch: JSONValue? = nil,
        _ change: (JSONValue) throws -> JSONValue
    ) throws -> JSONValue {
        try store.withLock { store in
            let key = Key(namespace: namespace, name: name)
            guard let stored = store.objects[type.storage]?[key] else { throw FakeAPIError.notFound(resource: Server.qualified(type), name: name) }
            let current = Server.served(stored, as: type)
            var changed = try change(current)
            let wanted = (patch ?? changed).value(at: "metadata.resourceVersion")?.string
            if let wanted, wanted != current.value(at: "metadata.resourceVersion")?.string {
                throw FakeAPIError.conflict(
                    resource: Server.qualified(type), name: name,
                    message: "the object has been modified; please apply your changes to the latest version and try again")
            }
            if let changedName = changed.value(at: "metadata.name")?.string, changedName != name {
                throw FakeAPIError.badRequest("the name of the object (\(changedName)) does not match the name on the URL (\(name))")
            }
            // A uid in the new object is a precondition, as the API server's store checks it.
            if let uid = changed.value(at: "metadata.uid")?.string, let actual = current.value(at: "metadata.uid")?.string, uid != actual {
                throw FakeAPIError.conflict(
                    resource: Server.qualified(type), name: name,
                    message: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(actual)")
            }
            // What a write may not change.
            for field in ["metadata.uid", "metadata.creationTimestamp", "metadata.namespace", "metadata.name"] {
                changed.set(current.value(at: field), at: field)
            }
            if type.storage == "pods" || type.storage == "nodes" {
                if status {
                    var only = current
                    only["status"] = changed["status"]
                    changed = only
                } else {
                    changed["status"] = current["status"]
                }
            }
            var result = type.storage == "events" ? Server.stored(changed, from: type) : changed
            if type.storage == "pods" { Server.kubeletUpdatesReady(&result) }
            store.resourceVersion += 1
            result.set(.string(String(store.resourceVersion)), at: "metadata.resourceVersion")
            store.objects[type.storage]?[key] = result
            return Server.served(result, as: type)
        }
    }

    private func delete(_ type: ResourceType, namespace: String, name: String, options: JSONValue?, store: inout Store) throws -> JSONValue {
        let key = Key(namespace: namespace, name: name)
        guard let object = store.objects[type.storage]?[key] else { throw FakeAPIError.notFound(resource: Server.qualified(type), name: name) }
        if let uid = options?.value(at: "preconditions.uid")?.string, uid != object.value(at: "metadata.uid")?.string {
            throw FakeAPIError.conflict(
                resource: Server.qualified(type), name: name,
                message: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.value(at: "metadata.uid")?.string ?? "")")
        }
        if let version = options?.value(at: "preconditions.resourceVersion")?.string,
            version != object.value(at: "metadata.resourceVersion")?.string
        {
            throw FakeAPIError.conflict(
                resource: Server.qualified(type), name: name,
                message:
                    "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(object.value(at: "metadata.resourceVersion")?.string ?? "")"
            )
        }
        // A pod ends gracefully: it is marked for deletion (and leaves its Services' endpoints) at once, its controller
        // makes a replacement at once, and the kubelet removes it when its containers have stopped (here, shortly).
        let grace = options?["gracePeriodSeconds"]?.number ?? object.value(at: "spec.terminationGracePeriodSeconds")?.number ?? 30
        guard type.storage == "pods", grace > 0 else {
            store.objects[type.storage]?[key] = nil
            store.resourceVersion += 1
            if type.storage == "pods", replacesPods { try Server.replace(object, store: &store) }
            return object
        }
        if object.value(at: "metadata.deletionTimestamp") != nil { return object }  // already terminating
        var terminating = object
        terminating.set(.string(Timestamps.seconds(Date().addingTimeInterval(grace))), at: "metadata.deletionTimestamp")
        terminating.set(.number(grace), at: "metadata.deletionGracePeriodSeconds")
        store.resourceVersion += 1
        terminating.set(.string(String(store.resourceVersion)), at: "metadata.resourceVersion")
        store.objects[type.storage]?[key] = terminating
        if replacesPods { try Server.replace(object, store: &store) }
        let uid = object.value(at: "metadata.uid")
        guard let terminationDelay else { return terminating }
        DispatchQueue.global().asyncAfter(deadline: .now() + terminationDelay) { [self] in
            self.store.withLock { store in
                guard store.objects["pods"]?[key]?.value(at: "metadata.uid") == uid else { return }
                store.objects["pods"]?[key] = nil
                store.resourceVersion += 1
            }
        }
        return terminating
    }

    private func evict(namespace: String, name: String, eviction: JSONValue) throws {
        guard eviction.value(at: "metadata.name")?.string == name else {
            throw FakeAPIError.badRequest("name in URL does not match name in Eviction object")
        }
        try store.withLock { store in
            let key = Key(namespace: namespace, name: name)
            guard let pod = store.objects["pods"]?[key] else { throw FakeAPIError.notFound(resource: "pods", name: name) }
            let phase = pod.value(at: "status.phase")?.string ?? "Pending"
            let checked = !["Pending", "Succeeded", "Failed"].contains(phase) && pod.value(at: "metadata.deletionTimestamp") == nil
            if checked {
                let labels = pod.value(at: "metadata.labels")
                let budgets = (store.objects["poddisruptionbudgets"] ?? [:]).filter { budget in
                    guard budget.key.namespace == namespace, case .object(let match)? = budget.value.value(at: "spec.selector.matchLabels") else {
                        return false
                    }
                    return match.allSatisfy { labels?[$0.key] == $0.value }
                }
                if budgets.count > 1 {
                    throw FakeAPIError.internalError(
                        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")
                }
                if let (budgetKey, budget) = budgets.first {
                    let allowed = Int(budget.value(at: "status.disruptionsAllowed")?.number ?? 0)
                    guard allowed > 0 else {
                        let healthy = Int(budget.value(at: "status.currentHealthy")?.number ?? 0)
                        let desired = Int(budget.value(at: "status.desiredHealthy")?.number ?? 0)
                        throw FakeAPIError.tooManyRequests(
                            message: "Cannot evict pod as it would violate the pod's disruption budget.",
                            cause: "The disruption budget \(budgetKey.name) needs \(desired) healthy pods and has \(healthy) currently",
                            retryAfterSeconds: nil)
                    }
                    var updated = budget
                    updated.set(.number(Double(allowed - 1)), at: "status.disruptionsAllowed")
                    store.objects["poddisruptionbudgets"]?[budgetKey] = updated
                }
            }
            let pods = ResourceType.all.first { $0.storage == "pods" }!
            _ = try delete(pods, namespace: namespace, name: name, options: eviction["deleteOptions"], store: &store)
        }
    }

}
