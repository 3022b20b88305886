import Foundation

/// Runs a short command (openssl, promtool, our own `healer`) to completion, without blocking a thread while
/// it runs.
///
/// Commands run in the test's working directory; `directory` only holds their output while they run, so
/// pass absolute paths.
public enum Command {
    /// What a finished command left behind.
    public struct Outcome: Sendable {
        /// The exit code (128 + signal when killed).
        public var status: Int32
        /// Standard output and standard error, interleaved.
        public var output: String
    }

    /// Runs `arguments[0]` (found with ``Executable/find(_:package:)``) and returns its output.
    ///
    /// - Throws: ``HarnessError/commandFailed(command:status:output:)`` on a non-zero exit.
    @discardableResult
    public static func run(_ arguments: [String], package: String, in directory: String, timeout: Duration = .seconds(60)) async throws -> String {
        let executable = try Executable.find(arguments[0], package: package)
        let outcome = try await execute(executable, Array(arguments.dropFirst()), in: directory, timeout: timeout)
        guard outcome.status == 0 else {
            throw HarnessError.commandFailed(command: arguments.joined(separator: " "), status: outcome.status, output: outcome.output)
        }
        return outcome.output
    }

    /// Runs the binary at `executable` with `arguments` and returns its exit code and output, whatever the code.
    public static func execute(_ executable: String, _ arguments: [String], in directory: String, timeout: Duration = .seconds(60)) async throws
        -> Outcome
    {
        let name = (executable.split(separator: "/").last.map(String.init) ?? "command") + "-\(UUID().uuidString.prefix(6))"
        let specification = ManagedProcess.Specification(
            name: name, executable: executable, arguments: arguments, directory: directory, readiness: .immediately)
        let process = try ManagedProcess.start(specification)
        let status: Int32
        do {
            status = try await eventually(
                "`\(([executable] + arguments).joined(separator: " "))` to finish", timeout: timeout, interval: .milliseconds(10)
            ) {
                process.exitStatus()
            }
        } catch {
            await process.stop()
            throw error
        }
        let output = (try? String(contentsOfFile: process.logPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: process.logPath)
        return Outcome(status: status, output: output)
    }
}
