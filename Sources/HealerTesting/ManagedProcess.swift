public import CurlHTTP
public import Foundation
import ProcessGroups
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started by a test: its own process group, its output in a log file, stopped for sure.
///
/// Prefer ``withRunning(_:_:)``, which stops the process when the body returns *or throws*.
public final class ManagedProcess: Sendable {
    /// How to tell that a started service is ready.
    public enum Readiness: Sendable {
        /// Ready as soon as it is started.
        case immediately
        /// Ready when `GET url` answers 2xx; `client` carries TLS settings where needed.
        case http(url: String, client: HTTPClientConfiguration = HTTPClientConfiguration(connectTimeout: .seconds(1), timeout: .seconds(2)))
        /// Ready when a TCP connection to 127.0.0.1:`port` succeeds.
        case tcp(port: Int)
    }

    /// What to start.
    public struct Specification: Sendable {
        /// A short name for messages, e.g. `prometheus`.
        public var name: String
        /// The absolute path of the binary (see ``Executable/find(_:package:)``).
        public var executable: String
        /// The arguments, without the binary itself.
        public var arguments: [String]
        /// Where its log file goes (the process runs in the caller's directory: pass absolute paths).
        public var directory: String
        /// How readiness is checked.
        public var readiness: Readiness
        /// How long it may take to become ready.
        public var readyTimeout: Duration

        /// Creates a specification.
        public init(
            name: String, executable: String, arguments: [String], directory: String,
            readiness: Readiness, readyTimeout: Duration = .seconds(30)
        ) {
            self.name = name
            self.executable = executable
            self.arguments = arguments
            self.directory = directory
            self.readiness = readiness
            self.readyTimeout = readyTimeout
        }
    }

    /// The specification it was started from.
    public let specification: Specification
    /// The process id (also its process group id).
    public let pid: pid_t
    /// Where its standard output and error go.
    public let logPath: String
    private let reaped = Mutex<Int32?>(nil)

    private init(specification: Specification, pid: pid_t, logPath: String) {
        self.specification = specification
        self.pid = pid
        self.logPath = logPath
    }

    /// Starts the process, waits until it is ready, runs `body`, and stops the process whatever happens.
    @discardableResult
    public static func withRunning<R: Sendable>(
        _ specification: Specification, _ body: (ManagedProcess) async throws -> R
    ) async throws -> R {
        let process = try start(specification)
        do {
            try await process.waitUntilReady()
            let result = try await body(process)
            await process.stop()
            return result
        } catch {
            await process.stop()
            throw error
        }
    }

    /// Starts the process without waiting for it; the caller must call ``stop()``.
    public static func start(_ specification: Specification) throws -> ManagedProcess {
        let logPath = specification.directory + "/\(specification.name).log"
        // Its own process group, so that stop() also reaches any children it forks.
        let pid: Int32
        switch ProcessGroup.spawn([specification.executable] + specification.arguments, output: .file(logPath)) {
        case .success(let started): pid = started
        case .failure(let error): throw HarnessError.system("cannot start \(specification.executable): \(error)")
        }
        OrphanReaper.record(group: pid, executable: specification.executable)
        return ManagedProcess(specification: specification, pid: pid, logPath: logPath)
    }

    /// The exit code once the process has exited (128 + signal when killed), else `nil`; reaps it.
    public func exitStatus() -> Int32? {
        reaped.withLock { reaped in
            if let reaped { return reaped }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                reaped = ProcessGroup.exitCode(fromWaitStatus: status)
                OrphanReaper.forget(group: pid)
            }
            return reaped
        }
    }

    /// Polls the readiness check until it passes; fails early, with the log, when the process exits.
    public func waitUntilReady() async throws {
        let client = readinessClient()
        try await waitUntil("\(specification.name) to become ready", timeout: specification.readyTimeout, interval: .milliseconds(50)) {
            if let status = exitStatus() {
                throw HarnessError.exitedEarly(name: specification.name, status: status, log: logTail())
            }
            switch specification.readiness {
            case .immediately:
                return true
            case .http(let url, _):
                return (try? await client.get(url).isSuccess) ?? false
            case .tcp(let port):
                return Self.canConnect(port: port)
            }
        }
    }

    /// Sends SIGTERM to the process group, waits up to `grace`, then SIGKILL; always reaps the process.
    public func stop(grace: Duration = .seconds(5)) async {
        guard exitStatus() == nil else { return }
        kill(-pid, SIGTERM)
        let exited =
            (try? await waitUntil("\(specification.name) to exit", timeout: grace, interval: .milliseconds(20)) { exitStatus() != nil }) != nil
        if !exited {
            kill(-pid, SIGKILL)
            _ = try? await waitUntil("\(specification.name) to die", timeout: .seconds(10), interval: .milliseconds(20)) { exitStatus() != nil }
        }
    }

    /// The last lines of the process's log.
    public func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    private func readinessClient() -> HTTPClient {
        if case .http(_, let configuration) = specification.readiness { return HTTPClient(configuration: configuration) }
        return HTTPClient()
    }

    private static func canConnect(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = LoopbackAddress.make(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
