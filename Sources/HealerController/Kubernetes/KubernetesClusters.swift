public import Foundation
public import HealerCore
public import HealerKubernetes
import Synchronization

/// The clusters of the configuration's kubernetes balancers: one API client each, and the pods each saw last,
/// shared by the readiness-gate driver (drains) and the pod actuators (delete, evict) so that an actuator acts
/// on the very pod that was judged (its uid), never on a replacement with the same name.
public final class KubernetesClusters: Sendable {
    /// One cluster.
    public final class Cluster: Sendable {
        /// The balancer's name.
        public let name: String
        /// The API client; `nil` when the connection cannot be made (``problem`` says why).
        public let client: KubernetesClient?
        /// Why there is no client.
        public let problem: String?
        /// Its settings.
        public let settings: KubernetesSettings
        /// The pools it serves.
        public let pools: [PoolSettings]
        /// Where its decisions are shown.
        public let events = PodEvents()
        private let seen = Mutex<[TargetID: Pod]>([:])

        init(name: String, settings: KubernetesSettings, pools: [PoolSettings], connection: Result<KubernetesConnection, KubernetesError>) {
            self.name = name
            self.settings = settings
            self.pools = pools
            switch connection {
            case .success(let connection):
                client = KubernetesClient(connection: connection)
                problem = nil
            case .failure(let error):
                client = nil
                problem = "balancer \(name): \(error)"
            }
        }

        /// The pod last seen as `target`.
        public func pod(_ target: TargetID) -> Pod? { seen.withLock { $0[target] } }

        /// The pods last seen in `pool`, by name.
        func seenPods(pool: String) -> [Pod] {
            seen.withLock { seen in seen.filter { $0.key.pool == pool }.sorted { $0.key < $1.key }.map(\.value) }
        }

        /// Replaces what was seen of `pool`.
        func remember(_ pods: [Pod], pool: String) {
            seen.withLock { seen in
                seen = seen.filter { $0.key.pool != pool }
                for pod in pods { seen[TargetID(pool: pool, server: pod.metadata.name)] = pod }
            }
        }

        /// Updates one pod after a write.
        func remember(_ pod: Pod, as target: TargetID) {
            seen.withLock { $0[target] = pod }
        }
    }

    /// By balancer name.
    public let clusters: [String: Cluster]

    /// The clusters of `configuration`; connections from each balancer's kubeconfig, else from the pod's service
    /// account, else from `$KUBECONFIG` or `~/.kube/config`. Data fields of a kubeconfig are written to
    /// `dataDirectory`.
    public init(
        configuration: HealerConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment,
        dataDirectory: String = NSTemporaryDirectory() + "healer-kubernetes-\(getpid())"
    ) {
        var clusters: [String: Cluster] = [:]
        for (name, balancer) in configuration.balancers {
            guard case .kubernetes(let settings) = balancer else { continue }
            let connection = Result { () throws(KubernetesError) -> KubernetesConnection in
                if let path = settings.kubeconfig {
                    return try Kubeconfig.load(path: path, dataDirectory: dataDirectory).connection(context: settings.context)
                }
                return try KubernetesConnection.automatic(environment: environment, dataDirectory: dataDirectory)
            }
            clusters[name] = Cluster(
                name: name, settings: settings, pools: configuration.pools.values.filter { $0.balancer == name }.sorted { $0.name < $1.name },
                connection: connection)
        }
        self.clusters = clusters
    }

    /// Clusters made from explicit connections (tests).
    public init(configuration: HealerConfiguration, connections: [String: KubernetesConnection]) {
        var clusters: [String: Cluster] = [:]
        for (name, balancer) in configuration.balancers {
            guard case .kubernetes(let settings) = balancer else { continue }
            let connection: Result<KubernetesConnection, KubernetesError> =
                connections[name].map { .success($0) } ?? .failure(.configuration("no connection given"))
            clusters[name] = Cluster(
                name: name, settings: settings, pools: configuration.pools.values.filter { $0.balancer == name }.sorted { $0.name < $1.name },
                connection: connection)
        }
        self.clusters = clusters
    }

    /// The cluster serving `pool`.
    public func cluster(serving pool: String) -> Cluster? {
        clusters.values.first { cluster in cluster.pools.contains { $0.name == pool } }
    }
}
