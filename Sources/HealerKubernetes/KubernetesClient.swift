public import CurlHTTP
public import Foundation

/// Calls the Kubernetes API over Healer's libcurl client: JSON and strategic-merge patches, preconditions,
/// selectors and pagination, and failures typed from the API's `Status` (``KubernetesError``).
public struct KubernetesClient: Sendable {
    /// The patch formats the API takes.
    public enum PatchType: String, Sendable {
        /// RFC 7386 JSON merge patch: lists are replaced whole.
        case merge = "application/merge-patch+json"
        /// Kubernetes' strategic merge: lists with a merge key (conditions by `type`) are merged element by element.
        case strategicMerge = "application/strategic-merge-patch+json"
        /// RFC 6902 JSON patch.
        case json = "application/json-patch+json"
    }

    /// The connection.
    public let connection: KubernetesConnection
    private let http: HTTPClient
    private let exec: ExecCredentials?

    /// A client for `connection`.
    public init(connection: KubernetesConnection, timeout: Duration = .seconds(10)) {
        self.connection = connection
        var authorization: HTTPAuthorization?
        switch connection.credentials {
        case .bearer(let token): authorization = .bearer(token)
        case .bearerTokenFile(let path): authorization = .bearerTokenFile(path: path)
        case .none, .exec: authorization = nil
        }
        http = HTTPClient(
            configuration: HTTPClientConfiguration(
                connectTimeout: min(timeout, .seconds(5)), timeout: timeout, authorization: authorization, tls: connection.tls,
                headers: [HTTPHeader("Accept", "application/json")], userAgent: "healer"))
        if case .exec(let plugin) = connection.credentials { exec = ExecCredentials(plugin: plugin) } else { exec = nil }
    }

    // MARK: - Pods

    /// The pod `name` of `namespace`.
    public func pod(_ name: String, namespace: String) async throws(KubernetesError) -> Pod {
        try await get(Pod.self, path: "/api/v1/namespaces/\(namespace)/pods/\(name)")
    }

    /// The pods of `namespace` matching the selectors, every page read (`pageSize` per request).
    public func pods(namespace: String, labelSelector: String? = nil, fieldSelector: String? = nil, pageSize: Int = 500) async throws(KubernetesError)
        -> [Pod]
    {
        try await list(
            Pod.self, path: "/api/v1/namespaces/\(namespace)/pods", labelSelector: labelSelector, fieldSelector: fieldSelector, pageSize: pageSize)
    }

    /// Sets conditions on a pod's status with a strategic-merge patch on `pods/status` (merged by `type`: the
    /// kubelet's own conditions stay), only if the pod is still the one of `uid`. Returns the pod as patched.
    public func setConditions(_ conditions: [PodCondition], pod name: String, namespace: String, uid: String) async throws(KubernetesError) -> Pod {
        struct Patch: Encodable {
            struct Metadata: Encodable { var uid: String }
            struct Status: Encodable { var conditions: [PodCondition] }
            var metadata: Metadata
            var status: Status
        }
        let body = try encode(Patch(metadata: .init(uid: uid), status: .init(conditions: conditions)))
        let data = try await send(
            .patch, path: "/api/v1/namespaces/\(namespace)/pods/\(name)/status", body: body, contentType: PatchType.strategicMerge.rawValue)
        return try decode(Pod.self, from: data)
    }

    /// Deletes the pod, only if it is still the one of `uid` (a replacement with the same name is never deleted: 409).
    public func deletePod(_ name: String, namespace: String, uid: String, gracePeriodSeconds: Int? = nil) async throws(KubernetesError) {
        struct Options: Encodable {
            struct Preconditions: Encodable { var uid: String }
            var apiVersion = "v1"
            var kind = "DeleteOptions"
            var gracePeriodSeconds: Int?
            var preconditions: Preconditions
        }
        let body = try encode(Options(gracePeriodSeconds: gracePeriodSeconds, preconditions: .init(uid: uid)))
        _ = try await send(.delete, path: "/api/v1/namespaces/\(namespace)/pods/\(name)", body: body, contentType: "application/json")
    }

    /// Evicts the pod through `policy/v1` Eviction, which respects PodDisruptionBudgets: a 429 means a budget does
    /// not allow it now (``KubernetesError/retry`` says when to try again), never a reason to delete instead.
    public func evictPod(_ name: String, namespace: String, uid: String, gracePeriodSeconds: Int? = nil) async throws(KubernetesError) {
        struct Eviction: Encodable {
            struct Metadata: Encodable {
                var name: String
                var namespace: String
            }
            struct DeleteOptions: Encodable {
                struct Preconditions: Encodable { var uid: String }
                var gracePeriodSeconds: Int?
                var preconditions: Preconditions
            }
            var apiVersion = "policy/v1"
            var kind = "Eviction"
            var metadata: Metadata
            var deleteOptions: DeleteOptions
        }
        let eviction = Eviction(
            metadata: .init(name: name, namespace: namespace),
            deleteOptions: .init(gracePeriodSeconds: gracePeriodSeconds, preconditions: .init(uid: uid)))
        _ = try await send(
            .post, path: "/api/v1/namespaces/\(namespace)/pods/\(name)/eviction", body: try encode(eviction), contentType: "application/json")
    }

    // MARK: - Generic

    /// GETs `path` and decodes the answer.
    public func get<Object: Decodable>(_ type: Object.Type, path: String) async throws(KubernetesError) -> Object {
        try decode(type, from: try await send(.get, path: path))
    }

    /// Lists `path`, following `continue` tokens; a 410 Gone (the token expired) starts the list again once.
    public func list<Item: Decodable>(
        _ type: Item.Type, path: String, labelSelector: String? = nil, fieldSelector: String? = nil, pageSize: Int = 500
    ) async throws(KubernetesError) -> [Item] {
        var restarted = false
        while true {
            var items: [Item] = []
            var token: String?
            do {
                repeat {
                    var query = [("limit", String(pageSize))]
                    if let labelSelector { query.append(("labelSelector", labelSelector)) }
                    if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
                    if let token { query.append(("continue", token)) }
                    let page = try decode(ListPage<Item>.self, from: try await send(.get, path: path, query: query))
                    items += page.items ?? []
                    token = page.metadata?.continue.flatMap { $0.isEmpty ? nil : $0 }
                } while token != nil
                return items
            } catch  where error.retry == .relist && !restarted {
                restarted = true
            }
        }
    }

    /// Creates an object at `path` (a collection) from `body`.
    public func create<Body: Encodable>(_ body: Body, path: String) async throws(KubernetesError) -> Data {
        try await send(.post, path: path, body: try encode(body), contentType: "application/json")
    }

    /// Replaces the object at `path` (PUT) with `body`; its `metadata.resourceVersion` must be current, or the
    /// answer is 409 Conflict (another writer came first).
    public func replace<Body: Encodable>(_ body: Body, path: String) async throws(KubernetesError) -> Data {
        try await send(.put, path: path, body: try encode(body), contentType: "application/json")
    }

    /// Patches the object at `path`.
    public func patch(_ body: Data, type: PatchType, path: String) async throws(KubernetesError) -> Data {
        try await send(.patch, path: path, body: body, contentType: type.rawValue)
    }

    /// Sends a request; the body of a 2xx answer, or the failure typed.
    public func send(
        _ method: HTTPMethod, path: String, query: [(String, String)] = [], body: Data? = nil, contentType: String? = nil
    ) async throws(KubernetesError) -> Data {
        var url = connection.server + path
        if !query.isEmpty { url += "?" + query.map { "\($0)=\(Self.escape($1))" }.joined(separator: "&") }
        var headers: [HTTPHeader] = []
        if let contentType { headers.append(HTTPHeader("Content-Type", contentType)) }
        for attempt in 1...2 {
            var request = HTTPRequest(method: method, url: url, headers: headers, body: body)
            if let exec { request.headers.append(HTTPHeader("Authorization", "Bearer \(try await exec.token())")) }
            let response: HTTPResponse
            do {
                response = try await http.execute(request)
            } catch let error as HTTPClientError {
                throw .transport(error)
            } catch {
                throw .transport(.invalidRequest("cancelled"))
            }
            if response.isSuccess { return response.body }
            // A plugin's token the server refuses is fetched again once, as client-go does.
            if response.status == 401, let exec, attempt == 1 {
                exec.invalidate()
                continue
            }
            throw .status(APIStatus(response: response))
        }
        throw .configuration("unreachable")
    }

    private func encode<Body: Encodable>(_ body: Body) throws(KubernetesError) -> Data {
        do {
            return try JSONEncoder().encode(body)
        } catch {
            throw .undecodable("cannot encode \(Body.self): \(error)")
        }
    }

    private func decode<Object: Decodable>(_ type: Object.Type, from data: Data) throws(KubernetesError) -> Object {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw .undecodable("not a \(Object.self): \(error)")
        }
    }

    private static let unreserved = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))

    /// Percent-encodes a query value (selectors hold `=`, `,`, `!`, spaces and parentheses).
    static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }
}

/// One page of a list.
private struct ListPage<Item: Decodable>: Decodable {
    struct Metadata: Decodable { var `continue`: String? }
    var metadata: Metadata?
    var items: [Item]?
}
