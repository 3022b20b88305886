public import CurlHTTP
public import Foundation

/// Where the Kubernetes API is and how to prove who Healer is: from the pod's service account inside a cluster,
/// or from a kubeconfig outside one.
public struct KubernetesConnection: Sendable, Equatable {
    /// How requests are authenticated.
    public enum Credentials: Sendable, Equatable {
        /// None (a local fake, or client certificates alone).
        case none
        /// A fixed bearer token.
        case bearer(String)
        /// A bearer token read from a file and re-read when the file changes (projected service-account tokens
        /// rotate).
        case bearerTokenFile(String)
        /// A token obtained by running a credential plugin (managed clusters' `exec` users).
        case exec(ExecPlugin)
    }

    /// `https://host:port`, without a trailing slash.
    public var server: String
    /// The namespace to use when a pool names none.
    public var namespace: String
    /// CA, client certificate, verification.
    public var tls: TLSConfiguration
    /// The credentials.
    public var credentials: Credentials

    /// Creates a connection.
    public init(server: String, namespace: String = "default", tls: TLSConfiguration = TLSConfiguration(), credentials: Credentials = .none) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.namespace = namespace
        self.tls = tls
        self.credentials = credentials
    }

    /// The service account's directory in every pod.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The connection of a pod: `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`, the service account's
    /// token (re-read when it rotates), CA bundle and namespace.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment, directory: String = serviceAccountDirectory
    ) throws(KubernetesError) -> KubernetesConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty, let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw .configuration("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set")
        }
        let token = directory + "/token"
        guard FileManager.default.isReadableFile(atPath: token) else {
            throw .configuration("\(token): the service account token cannot be read (is automountServiceAccountToken false?)")
        }
        let namespace = (try? String(contentsOfFile: directory + "/namespace", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        // IPv6 hosts need brackets, as Go's net.JoinHostPort writes them.
        let authority = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let ca = directory + "/ca.crt"
        return KubernetesConnection(
            server: "https://\(authority)", namespace: namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default",
            tls: TLSConfiguration(caFile: FileManager.default.fileExists(atPath: ca) ? ca : nil), credentials: .bearerTokenFile(token))
    }

    /// In a cluster when `KUBERNETES_SERVICE_HOST` is set, else the kubeconfig of `$KUBECONFIG` (its first file) or
    /// `~/.kube/config`.
    public static func automatic(
        environment: [String: String] = ProcessInfo.processInfo.environment, dataDirectory: String
    ) throws(KubernetesError) -> KubernetesConnection {
        if environment["KUBERNETES_SERVICE_HOST"] != nil { return try inCluster(environment: environment) }
        let path =
            environment["KUBECONFIG"].flatMap { $0.split(separator: ":").first.map(String.init) }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.kube/config"
        return try Kubeconfig.load(path: path, dataDirectory: dataDirectory).connection()
    }
}

/// A kubeconfig `exec` credential plugin.
public struct ExecPlugin: Sendable, Equatable {
    /// The command (a path, or a name looked up in `PATH`).
    public var command: String
    /// Its arguments.
    public var arguments: [String]
    /// Extra environment variables.
    public var environment: [String: String]
    /// The `client.authentication.k8s.io` version it speaks.
    public var apiVersion: String

    /// Creates a plugin.
    public init(command: String, arguments: [String] = [], environment: [String: String] = [:], apiVersion: String) {
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.apiVersion = apiVersion
    }
}
