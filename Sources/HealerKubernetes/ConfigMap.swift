import Foundation

/// A `v1` ConfigMap: string data under keys, with the version a replacement must name.
public struct ConfigMap: Sendable, Equatable, Codable {
    /// Name, namespace, labels and the version a write must name.
    public struct Metadata: Sendable, Equatable, Codable {
        public var name: String
        public var namespace: String?
        public var resourceVersion: String?
        public var labels: [String: String]?
        /// Kept as read: a replacement must not wipe what other tools wrote.
        public var annotations: [String: String]?

        public init(name: String, namespace: String?, resourceVersion: String? = nil, labels: [String: String]? = nil) {
            self.name = name
            self.namespace = namespace
            self.resourceVersion = resourceVersion
            self.labels = labels
        }
    }

    /// The API server refuses a ConfigMap whose data (keys and values) exceeds 1 MiB.
    public static let maxDataBytes = 1_048_576

    public var apiVersion = "v1"
    public var kind = "ConfigMap"
    public var metadata: Metadata
    public var data: [String: String]?

    /// A ConfigMap.
    public init(metadata: Metadata, data: [String: String]) {
        self.metadata = metadata
        self.data = data
    }

    /// The size the API server counts against ``maxDataBytes``: every key and value, in bytes.
    public var dataBytes: Int { (data ?? [:]).reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count } }
}

extension KubernetesClient {
    /// The ConfigMap `name` of `namespace`.
    public func configMap(_ name: String, namespace: String) async throws(KubernetesError) -> ConfigMap {
        try await get(ConfigMap.self, path: "/api/v1/namespaces/\(namespace)/configmaps/\(name)")
    }

    /// Creates a ConfigMap (409 AlreadyExists when another writer created it first).
    public func createConfigMap(_ map: ConfigMap) async throws(KubernetesError) -> ConfigMap {
        try decodeConfigMap(try await create(map, path: "/api/v1/namespaces/\(map.metadata.namespace ?? "default")/configmaps"))
    }

    /// Replaces a ConfigMap; its `resourceVersion` must be current (409 Conflict when another writer came first).
    public func updateConfigMap(_ map: ConfigMap) async throws(KubernetesError) -> ConfigMap {
        try decodeConfigMap(
            try await replace(map, path: "/api/v1/namespaces/\(map.metadata.namespace ?? "default")/configmaps/\(map.metadata.name)"))
    }

    private func decodeConfigMap(_ data: Data) throws(KubernetesError) -> ConfigMap {
        do { return try JSONDecoder().decode(ConfigMap.self, from: data) } catch { throw .undecodable("not a ConfigMap: \(error)") }
    }
}
