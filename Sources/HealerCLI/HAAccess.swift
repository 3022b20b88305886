import Foundation
import HealerController
import HealerCore
import HealerKubernetes
import HealerStore
import Logging

/// How `ha:` reaches the API server: the client, the Lease's elector and the shared state's store, for `run` and
/// `state import`.
struct HAAccess {
    let settings: HASettings
    let client: KubernetesClient
    /// Where the Lease and the state are.
    let namespace: String
    let store: ConfigMapStateStore

    /// The kubeconfig `ha:` names, else the pod's service account.
    init(configuration: HealerConfiguration, ha: HASettings) throws {
        let directory = Self.dataDirectory(configuration)
        let connection =
            try ha.kubeconfig.map { try Kubeconfig.load(path: $0, dataDirectory: directory).connection(context: ha.context) }
            ?? KubernetesConnection.automatic(dataDirectory: directory)
        settings = ha
        client = KubernetesClient(connection: connection)
        namespace = ha.namespace ?? connection.namespace
        store = ConfigMapStateStore(client: client, name: ha.stateConfigMap, namespace: namespace)
    }

    /// Where kubeconfig data fields become files: beside the state (the image's root file system is read-only).
    static func dataDirectory(_ configuration: HealerConfiguration) -> String {
        URL(fileURLWithPath: configuration.state.path).deletingLastPathComponent().appendingPathComponent("kubernetes").path
    }

    /// This process's identity in the Lease: `ha.identity`, `$POD_NAME` or the host name, always with a random suffix,
    /// as client-go recommends: two processes with one identity (a configured one shared by every replica of a
    /// Deployment) would both lead.
    static func identity(_ ha: HASettings, environment: [String: String]) -> String {
        (ha.identity ?? environment["POD_NAME"] ?? ProcessInfo.processInfo.hostName) + "_" + UUID().uuidString.prefix(8).lowercased()
    }

    /// The elector on the Lease. A Lease it has to create (deleted, renamed) starts above every epoch that fenced the
    /// shared state, so that its terms come later.
    func elector(
        identity: String, url: String?, logger: Logger, onTransition: (@Sendable (_ leading: Bool, _ holder: String?) -> Void)? = nil
    ) -> LeaseElector {
        let store = self.store
        return LeaseElector(
            settings: .init(
                name: settings.leaseName, namespace: namespace, identity: identity, leaseDuration: settings.leaseDuration,
                renewDeadline: settings.renewDeadline, retryPeriod: settings.retryPeriod, url: url),
            client: client, logger: logger, onTransition: onTransition, firstEpoch: { try? await store.nextEpoch() })
    }
}
