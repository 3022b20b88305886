import Foundation
import Synchronization

/// Runs a kubeconfig `exec` plugin for a token and keeps it until it expires (or the API server refuses it).
final class ExecCredentials: Sendable {
    private struct Cached {
        var token: String
        var expires: Date?
    }

    let plugin: ExecPlugin
    private let cached = Mutex<Cached?>(nil)

    init(plugin: ExecPlugin) {
        self.plugin = plugin
    }

    /// A token: the cached one while it has more than 10 s left, else a new one from the plugin.
    func token(now: Date = Date()) async throws(KubernetesError) -> String {
        if let cached = cached.withLock({ $0 }), cached.expires.map({ $0.timeIntervalSince(now) > 10 }) ?? true { return cached.token }
        let fresh = try await run()
        cached.withLock { $0 = fresh }
        return fresh.token
    }

    /// Forgets the token (the API server answered 401 to it): the next request runs the plugin again.
    func invalidate() {
        cached.withLock { $0 = nil }
    }

    private func run() async throws(KubernetesError) -> Cached {
        let process = Process()
        if plugin.command.contains("/") {
            process.executableURL = URL(fileURLWithPath: plugin.command)
            process.arguments = plugin.arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [plugin.command] + plugin.arguments
        }
        var environment = ProcessInfo.processInfo.environment.merging(plugin.environment) { $1 }
        environment["KUBERNETES_EXEC_INFO"] =
            #"{"apiVersion":"\#(plugin.apiVersion)","kind":"ExecCredential","spec":{"interactive":false}}"#
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let result: (status: Int32, output: Data, errors: Data)
        do {
            // Credential plugins print a few hundred bytes: read once it exits (pipes hold 64 KiB).
            result = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { process in
                    continuation.resume(
                        returning: (
                            process.terminationStatus, output.fileHandleForReading.readDataToEndOfFile(),
                            errors.fileHandleForReading.readDataToEndOfFile()
                        ))
                }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
        } catch {
            throw .configuration("exec plugin \(plugin.command) cannot be started: \(error.localizedDescription)")
        }
        guard result.status == 0 else {
            let text = String(decoding: result.errors.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw .configuration("exec plugin \(plugin.command) exited with \(result.status): \(text)")
        }
        struct Credential: Decodable {
            struct Status: Decodable {
                var token: String?
                var expirationTimestamp: String?
                var clientCertificateData: String?
            }
            var kind: String?
            var status: Status?
        }
        guard let credential = try? JSONDecoder().decode(Credential.self, from: result.output), credential.kind == "ExecCredential" else {
            throw .configuration("exec plugin \(plugin.command) did not print an ExecCredential")
        }
        guard let token = credential.status?.token, !token.isEmpty else {
            let reason = credential.status?.clientCertificateData != nil ? "client certificates from exec plugins are not supported" : "no token"
            throw .configuration("exec plugin \(plugin.command): \(reason)")
        }
        let expires = credential.status?.expirationTimestamp.flatMap { try? Date($0, strategy: .iso8601) }
        return Cached(token: token, expires: expires)
    }
}
