/// The parts of a Pod Healer reads; the rest of the object is ignored when decoding.
public struct Pod: Sendable, Equatable, Decodable {
    /// Identity, labels, owners.
    public struct Metadata: Sendable, Equatable, Decodable {
        public var name: String
        public var namespace: String?
        public var uid: String
        public var resourceVersion: String?
        public var labels: [String: String]?
        public var ownerReferences: [OwnerReference]?
        /// Set while the pod is being deleted.
        public var deletionTimestamp: String?
    }

    /// An owner of the pod.
    public struct OwnerReference: Sendable, Equatable, Decodable {
        public var apiVersion: String
        public var kind: String
        public var name: String
        public var uid: String
        public var controller: Bool?
    }

    /// What the pod runs on and which readiness gates it declares.
    public struct Spec: Sendable, Equatable, Decodable {
        /// A condition type the pod's readiness waits for.
        public struct ReadinessGate: Sendable, Equatable, Decodable {
            public var conditionType: String
        }
        public var nodeName: String?
        public var readinessGates: [ReadinessGate]?
    }

    /// Phase and conditions.
    public struct Status: Sendable, Equatable, Decodable {
        public var phase: String?
        public var podIP: String?
        public var conditions: [PodCondition]?
    }

    public var metadata: Metadata
    public var spec: Spec?
    public var status: Status?

    /// The controlling owner (ReplicaSet, StatefulSet, …), if any.
    public var controller: OwnerReference? {
        metadata.ownerReferences?.first { $0.controller == true } ?? metadata.ownerReferences?.first
    }

    /// The condition of `type`, if set.
    public func condition(_ type: String) -> PodCondition? {
        status?.conditions?.first { $0.type == type }
    }

    /// Whether the pod declares readiness gate `type`.
    public func declaresGate(_ type: String) -> Bool {
        spec?.readinessGates?.contains { $0.conditionType == type } ?? false
    }
}

/// A pod condition (`Ready`, `ContainersReady`, or a readiness gate's).
public struct PodCondition: Sendable, Equatable, Codable {
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: String?

    /// Creates a condition.
    public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastTransitionTime: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }
}
