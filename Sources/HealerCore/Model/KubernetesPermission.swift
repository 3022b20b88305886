/// One thing Healer may ask of the Kubernetes API server: a verb on a resource of an API group.
///
/// ``all`` is the one list of them: Healer's Kubernetes client makes only calls named here, and the RBAC Role in
/// `deploy/kubernetes/rbac.yaml` grants exactly these (a test derives the Role's rules from this list and compares).
/// A new call adds its permission here and nowhere else in code.
public struct KubernetesPermission: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The API group: `""` for the core group, `coordination.k8s.io`, ….
    public var group: String
    /// The resource, plural and lower case, with a subresource after a slash (`pods/eviction`).
    public var resource: String
    /// `get`, `list`, `watch`, `create`, `update`, `patch` or `delete`.
    public var verb: String

    /// A permission.
    public init(group: String, resource: String, verb: String) {
        self.group = group
        self.resource = resource
        self.verb = verb
    }

    /// Every permission Healer's code uses: the pools of pods' and leader election's. Tests drive each part against
    /// the fake API server and compare the calls it received with it.
    public static var all: [KubernetesPermission] { podPools + leaderElection + sharedState }

    /// Leader election (`ha:`): reading, creating and renewing its Lease.
    public static let leaderElection: [KubernetesPermission] = [
        KubernetesPermission(group: "coordination.k8s.io", resource: "leases", verb: "get"),
        KubernetesPermission(group: "coordination.k8s.io", resource: "leases", verb: "create"),
        KubernetesPermission(group: "coordination.k8s.io", resource: "leases", verb: "update"),
    ]

    /// The replicas' shared state (`ha:`): reading, creating and replacing its ConfigMap.
    public static let sharedState: [KubernetesPermission] = [
        KubernetesPermission(group: "", resource: "configmaps", verb: "get"),
        KubernetesPermission(group: "", resource: "configmaps", verb: "create"),
        KubernetesPermission(group: "", resource: "configmaps", verb: "update"),
    ]

    /// Pools of pods: reading a pool's pods (and one after a remedy, to read it back), the readiness gate on their
    /// status, the pod remedies (delete, evict) and the Events that explain them.
    public static let podPools: [KubernetesPermission] = [
        KubernetesPermission(group: "", resource: "pods", verb: "list"),
        KubernetesPermission(group: "", resource: "pods", verb: "get"),
        KubernetesPermission(group: "", resource: "pods/status", verb: "patch"),
        KubernetesPermission(group: "", resource: "pods", verb: "delete"),
        KubernetesPermission(group: "", resource: "pods/eviction", verb: "create"),
        KubernetesPermission(group: "events.k8s.io", resource: "events", verb: "create"),
    ]

    public static func < (a: Self, b: Self) -> Bool {
        (a.group, a.resource, a.verb) < (b.group, b.resource, b.verb)
    }

    public var description: String { "\(verb) \(group.isEmpty ? "" : group + "/")\(resource)" }
}
