import Foundation
import HealerCore
import HealerKubernetes
import HealerStore

/// How `ha:` reaches the API server, and the shared state there: for `run` and `state`.
enum HAAccess {
    /// Where kubeconfig data fields become files: beside the state (the image's root file system is read-only).
    static func dataDirectory(_ configuration: HealerConfiguration) -> String {
        URL(fileURLWithPath: configuration.state.path).deletingLastPathComponent().appendingPathComponent("kubernetes").path
    }

    /// A client for the kubeconfig `ha:` names, else the pod's service account, and the namespace of the Lease and the state.
    static func client(_ ha: HASettings, dataDirectory: String) throws -> (KubernetesClient, namespace: String) {
        let connection =
            try ha.kubeconfig.map { try Kubeconfig.load(path: $0, dataDirectory: dataDirectory).connection(context: ha.context) }
            ?? KubernetesConnection.automatic(dataDirectory: dataDirectory)
        return (KubernetesClient(connection: connection), ha.namespace ?? connection.namespace)
    }

    /// The shared state's store.
    static func store(_ configuration: HealerConfiguration, _ ha: HASettings) throws -> (ConfigMapStateStore, KubernetesClient, namespace: String) {
        let (client, namespace) = try client(ha, dataDirectory: dataDirectory(configuration))
        return (ConfigMapStateStore(client: client, name: ha.stateConfigMap, namespace: namespace), client, namespace)
    }
}
