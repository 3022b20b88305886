import Foundation

/// Runs a short helper command (openssl, promtool) to completion, without blocking a thread while it runs.
public enum Command {
    /// Runs `arguments[0]` (found with ``Executable/find(_:package:)``) and returns its output.
    ///
    /// The command runs in the test's working directory; `directory` only holds its output while it runs,
    /// so pass absolute paths.
    ///
    /// - Throws: ``HarnessError/commandFailed(command:status:output:)`` on a non-zero exit.
    @discardableResult
    public static func run(_ arguments: [String], package: String, in directory: String, timeout: Duration = .seconds(60)) async throws -> String {
        let executable = try Executable.find(arguments[0], package: package)
        let specification = ManagedProcess.Specification(
            name: "\(arguments[0])-\(UUID().uuidString.prefix(6))", executable: executable, arguments: Array(arguments.dropFirst()),
            directory: directory, readiness: .immediately)
        let process = try ManagedProcess.start(specification)
        let status: Int32
        do {
            status = try await eventually("`\(arguments.joined(separator: " "))` to finish", timeout: timeout, interval: .milliseconds(10)) {
                process.exitStatus()
            }
        } catch {
            await process.stop()
            throw error
        }
        let output = (try? String(contentsOfFile: process.logPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: process.logPath)
        guard status == 0 else {
            throw HarnessError.commandFailed(command: arguments.joined(separator: " "), status: status, output: output)
        }
        return output
    }
}
