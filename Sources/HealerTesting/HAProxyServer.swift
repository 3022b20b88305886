import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real HAProxy (the Debian package's binary) in master-worker mode on free loopback ports, for one test:
/// a frontend, the runtime API on TCP, and the built-in Prometheus exporter.
public struct HAProxyServer: Sendable {
    /// The ports it listens on.
    public struct Ports: Sendable {
        /// The HTTP frontend clients use.
        public var frontend: Int
        /// The runtime API (`stats socket ipv4@…`).
        public var runtime: Int
        /// The Prometheus exporter (`/metrics`).
        public var metrics: Int
    }

    /// A backend server for ``configuration(ports:servers:backend:checks:)``.
    public struct Backend: Sendable {
        /// The server name.
        public var name: String
        /// Its port on 127.0.0.1.
        public var port: Int
        /// Its configured weight.
        public var weight: Int
        /// Start it in maintenance (a spare).
        public var disabled: Bool

        /// Creates a backend server.
        public init(name: String, port: Int, weight: Int = 100, disabled: Bool = false) {
            self.name = name
            self.port = port
            self.weight = weight
            self.disabled = disabled
        }
    }

    /// Its ports.
    public let ports: Ports
    /// Its working directory.
    public let directory: String
    /// The master process.
    public let process: ManagedProcess

    /// `tcp://127.0.0.1:<runtime>`.
    public var runtimeAddress: String { "tcp://127.0.0.1:\(ports.runtime)" }
    /// `http://127.0.0.1:<frontend>`.
    public var frontendURL: String { "http://127.0.0.1:\(ports.frontend)" }
    /// `127.0.0.1:<metrics>`, a Prometheus scrape target.
    public var metricsTarget: String { "127.0.0.1:\(ports.metrics)" }

    /// A configuration with one HTTP frontend to backend `backend` (round robin, HTTP checks of `/health`
    /// every second, `fall 3 rise 2`, unless `checks` is false), the runtime API and the exporter.
    public static func configuration(ports: Ports, servers: [Backend], backend: String = "be_app", checks: Bool = true) -> String {
        let serverLines = servers.map { server in
            "    server \(server.name) 127.0.0.1:\(server.port) weight \(server.weight)"
                + (checks ? " check inter 1s fall 3 rise 2" : "") + (server.disabled ? " disabled" : "")
        }
        return """
            global
                stats socket ipv4@127.0.0.1:\(ports.runtime) level admin
                stats timeout 2m
            defaults
                mode http
                timeout connect 2s
                timeout client 30s
                timeout server 30s
                option http-keep-alive
            frontend fe
                bind 127.0.0.1:\(ports.frontend)
                default_backend \(backend)
            frontend prom
                bind 127.0.0.1:\(ports.metrics)
                http-request use-service prometheus-exporter if { path /metrics }
            backend \(backend)
                balance roundrobin
                \(checks ? "option httpchk GET /health" : "")
            \(serverLines.joined(separator: "\n"))

            """
    }

    /// Starts HAProxy with the configuration `configuration` builds for free ports, waits until its runtime
    /// API answers, runs `body`, and stops it afterwards (also when `body` throws).
    @discardableResult
    public static func withRunning<R: Sendable>(
        configuration: @Sendable (Ports) -> String, _ body: (HAProxyServer) async throws -> R
    ) async throws -> R {
        let executable = try Executable.find("haproxy", package: "haproxy")
        return try await TemporaryDirectory.with(prefix: "haproxy") { directory in
            let ports = Ports(frontend: try FreePort.next(), runtime: try FreePort.next(), metrics: try FreePort.next())
            let file = try directory.write("haproxy.cfg", configuration(ports))
            let check = try await Command.execute(executable, ["-c", "-f", file], in: directory.path)
            guard check.status == 0 else {
                throw HarnessError.commandFailed(command: "haproxy -c -f \(file)", status: check.status, output: check.output)
            }
            let specification = ManagedProcess.Specification(
                name: "haproxy", executable: executable, arguments: ["-W", "-db", "-f", file], directory: directory.path,
                readiness: .tcp(port: ports.runtime))
            return try await ManagedProcess.withRunning(specification) { process in
                // The runtime port answers as soon as the worker binds it; the master handles signals (reloads)
                // only once it logs "Loading success.".
                try await waitUntil("the HAProxy master to finish loading") { process.logTail(lines: 200).contains("Loading success.") }
                return try await body(HAProxyServer(ports: ports, directory: directory.path, process: process))
            }
        }
    }

    /// Reloads the configuration the way `systemctl reload haproxy` does (SIGUSR2 to the master): a new worker
    /// starts with the configured weights and states, and the runtime changes are gone. Returns once the master
    /// says the new worker loaded.
    public func reload() async throws {
        let loads = process.logTail(lines: 10_000).components(separatedBy: "Loading success.").count
        // A master that has only just logged "Loading success." may drop a SIGUSR2 (seen on 2.6.12): send it
        // again every 2 s until the new worker is reported.
        try await waitUntil("HAProxy to reload", interval: .seconds(2)) {
            if process.logTail(lines: 10_000).components(separatedBy: "Loading success.").count > loads { return true }
            kill(process.pid, SIGUSR2)
            let reloaded = try? await eventually("the new worker", timeout: .seconds(2)) {
                process.logTail(lines: 10_000).components(separatedBy: "Loading success.").count > loads ? true : nil
            }
            return reloaded ?? false
        }
    }
}
