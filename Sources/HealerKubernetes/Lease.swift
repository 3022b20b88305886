import CurlHTTP
import Foundation

/// A `coordination.k8s.io/v1` Lease, as leader election reads and writes it.
public struct Lease: Sendable, Equatable, Codable {
    /// Name, namespace and the version a write must name.
    public struct Metadata: Sendable, Equatable, Codable {
        public var name: String
        public var namespace: String?
        public var resourceVersion: String?

        public init(name: String, namespace: String?, resourceVersion: String? = nil) {
            self.name = name
            self.namespace = namespace
            self.resourceVersion = resourceVersion
        }
    }

    /// Who holds it, since when, for how long.
    public struct Spec: Sendable, Equatable, Codable {
        public var holderIdentity: String?
        public var leaseDurationSeconds: Int?
        /// MicroTime: RFC 3339 with six fractional digits.
        public var acquireTime: String?
        /// MicroTime.
        public var renewTime: String?
        public var leaseTransitions: Int?

        public init(
            holderIdentity: String? = nil, leaseDurationSeconds: Int? = nil, acquireTime: String? = nil, renewTime: String? = nil,
            leaseTransitions: Int? = nil
        ) {
            self.holderIdentity = holderIdentity
            self.leaseDurationSeconds = leaseDurationSeconds
            self.acquireTime = acquireTime
            self.renewTime = renewTime
            self.leaseTransitions = leaseTransitions
        }
    }

    public var apiVersion = "coordination.k8s.io/v1"
    public var kind = "Lease"
    public var metadata: Metadata
    public var spec: Spec

    /// A lease.
    public init(metadata: Metadata, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }
}

extension KubernetesClient {
    /// The Lease `name` of `namespace`.
    public func lease(_ name: String, namespace: String) async throws(KubernetesError) -> Lease {
        try await get(Lease.self, path: "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases/\(name)")
    }

    /// Creates a Lease (409 AlreadyExists when another replica created it first).
    public func createLease(_ lease: Lease) async throws(KubernetesError) -> Lease {
        let data = try await create(lease, path: "/apis/coordination.k8s.io/v1/namespaces/\(lease.metadata.namespace ?? "default")/leases")
        return try decodeLease(data)
    }

    /// Replaces a Lease; its `resourceVersion` must be current (409 Conflict when another replica wrote first).
    public func updateLease(_ lease: Lease) async throws(KubernetesError) -> Lease {
        try decodeLease(
            try await replace(
                lease, path: "/apis/coordination.k8s.io/v1/namespaces/\(lease.metadata.namespace ?? "default")/leases/\(lease.metadata.name)"))
    }

    private func decodeLease(_ data: Data) throws(KubernetesError) -> Lease {
        do { return try JSONDecoder().decode(Lease.self, from: data) } catch { throw .undecodable("not a Lease: \(error)") }
    }
}
