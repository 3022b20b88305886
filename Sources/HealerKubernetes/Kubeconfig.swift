import CurlHTTP
import Foundation
import Yams

/// A kubeconfig file: clusters, users and contexts, read as kubectl reads them (its current context unless
/// another is named).
public struct Kubeconfig: Sendable {
    struct File: Decodable, Sendable {
        struct Named<Value: Decodable & Sendable>: Decodable, Sendable {
            var name: String
            var value: Value?

            enum CodingKeys: String, CodingKey { case name, cluster, user, context }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                name = try container.decode(String.self, forKey: .name)
                value =
                    try container.decodeIfPresent(Value.self, forKey: .cluster) ?? container.decodeIfPresent(Value.self, forKey: .user)
                    ?? container.decodeIfPresent(Value.self, forKey: .context)
            }
        }

        struct Cluster: Decodable, Sendable {
            var server: String?
            var certificateAuthority: String?
            var certificateAuthorityData: String?
            var insecureSkipTLSVerify: Bool?

            enum CodingKeys: String, CodingKey {
                case server, certificateAuthority = "certificate-authority", certificateAuthorityData = "certificate-authority-data"
                case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            }
        }

        struct User: Decodable, Sendable {
            struct Exec: Decodable, Sendable {
                struct Variable: Decodable, Sendable {
                    var name: String
                    var value: String
                }
                var apiVersion: String?
                var command: String
                var args: [String]?
                var env: [Variable]?
            }
            var token: String?
            var tokenFile: String?
            var clientCertificate: String?
            var clientCertificateData: String?
            var clientKey: String?
            var clientKeyData: String?
            var exec: Exec?
            var username: String?
            var authProvider: [String: String]?

            enum CodingKeys: String, CodingKey {
                case token, tokenFile, clientCertificate = "client-certificate", clientCertificateData = "client-certificate-data"
                case clientKey = "client-key", clientKeyData = "client-key-data", exec, username, authProvider = "auth-provider"
            }
        }

        struct Context: Decodable, Sendable {
            var cluster: String
            var user: String?
            var namespace: String?
        }

        var clusters: [Named<Cluster>]?
        var users: [Named<User>]?
        var contexts: [Named<Context>]?
        var currentContext: String?

        enum CodingKeys: String, CodingKey { case clusters, users, contexts, currentContext = "current-context" }
    }

    /// The file's path.
    public let path: String
    let file: File
    /// Where `*-data` fields are written as files for the TLS layer (private to Healer).
    let dataDirectory: String

    /// Reads the kubeconfig at `path`.
    public static func load(path: String, dataDirectory: String) throws(KubernetesError) -> Kubeconfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .configuration("\(path): cannot be read: \(error.localizedDescription)")
        }
        do {
            return Kubeconfig(path: path, file: try YAMLDecoder().decode(File.self, from: text), dataDirectory: dataDirectory)
        } catch {
            throw .configuration("\(path): not a kubeconfig: \(error)")
        }
    }

    /// The connection of context `name`, or of the current context.
    public func connection(context name: String? = nil) throws(KubernetesError) -> KubernetesConnection {
        guard let contextName = name ?? file.currentContext, !contextName.isEmpty else {
            throw .configuration("\(path): no current-context, and no context named")
        }
        guard let context = file.contexts?.first(where: { $0.name == contextName })?.value else {
            throw .configuration("\(path): no context named \(contextName)")
        }
        guard let cluster = file.clusters?.first(where: { $0.name == context.cluster })?.value, let server = cluster.server else {
            throw .configuration("\(path): context \(contextName) names cluster \(context.cluster), which has no server")
        }
        let user = context.user.flatMap { name in file.users?.first { $0.name == name }?.value }
        var tls = TLSConfiguration(insecureSkipVerify: cluster.insecureSkipTLSVerify ?? false)
        tls.caFile = try file(cluster.certificateAuthority, data: cluster.certificateAuthorityData, named: "ca-\(context.cluster).crt")
        tls.certificateFile = try file(user?.clientCertificate, data: user?.clientCertificateData, named: "client-\(contextName).crt")
        tls.keyFile = try file(user?.clientKey, data: user?.clientKeyData, named: "client-\(contextName).key")
        var credentials = KubernetesConnection.Credentials.none
        if let token = user?.token, !token.isEmpty {
            credentials = .bearer(token)
        } else if let tokenFile = user?.tokenFile {
            credentials = .bearerTokenFile(resolve(tokenFile))
        } else if let exec = user?.exec {
            credentials = .exec(
                ExecPlugin(
                    command: exec.command.contains("/") ? resolve(exec.command) : exec.command, arguments: exec.args ?? [],
                    environment: Dictionary((exec.env ?? []).map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }),
                    apiVersion: exec.apiVersion ?? "client.authentication.k8s.io/v1"))
        } else if user?.authProvider != nil {
            throw .configuration("\(path): user of context \(contextName) uses an auth-provider, which is gone from kubectl too: use an exec plugin")
        }
        return KubernetesConnection(server: server, namespace: context.namespace ?? "default", tls: tls, credentials: credentials)
    }

    /// A path relative to the kubeconfig's directory, as kubectl resolves it.
    private func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : (self.path as NSString).deletingLastPathComponent + "/" + path
    }

    /// The file to hand the TLS layer: `path` as given, or `data` (base64) written into the data directory.
    private func file(_ path: String?, data: String?, named name: String) throws(KubernetesError) -> String? {
        if let path { return resolve(path) }
        guard let data else { return nil }
        guard let bytes = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
            throw .configuration("\(self.path): \(name.split(separator: "-").first ?? "") data is not base64")
        }
        // Named after this kubeconfig too: two kubeconfigs with a context of the same name keep their own files.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in self.path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let target = dataDirectory + "/" + String(hash, radix: 16) + "-" + name.replacingOccurrences(of: "/", with: "_")
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            _ = FileManager.default.createFile(atPath: target, contents: nil, attributes: [.posixPermissions: 0o600])
            try bytes.write(to: URL(fileURLWithPath: target))
        } catch {
            throw .configuration("\(target): cannot be written: \(error.localizedDescription)")
        }
        return target
    }
}
