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
    /// How long a plugin may run.
    static let timeout: TimeInterval = 30

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
        // The output goes to files, read once the plugin exits: a plugin printing more than a pipe holds cannot
        // block on a reader that waits for it to exit.
        let base = NSTemporaryDirectory() + "healer-exec-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: base + ".out", contents: nil, attributes: [.posixPermissions: 0o600])
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil, attributes: [.posixPermissions: 0o600])
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        let result: (status: Int32, output: Data, errors: Data)
        do {
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
            let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
            process.standardOutput = output
            process.standardError = errors
            process.standardInput = FileHandle.nullDevice
            let status: Int32 = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
                // A plugin that hangs (waiting for a browser login, say) is stopped.
                DispatchQueue.global().asyncAfter(deadline: .now() + Self.timeout) { [process] in
                    if process.isRunning { process.terminate() }
                }
            }
            try? output.close()
            try? errors.close()
            result = (
                status, (try? Data(contentsOf: URL(fileURLWithPath: base + ".out"))) ?? Data(),
                (try? Data(contentsOf: URL(fileURLWithPath: base + ".err"))) ?? Data()
            )
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
