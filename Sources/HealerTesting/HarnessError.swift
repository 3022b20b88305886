/// Why a test harness could not provide what a test asked for. Each message says what to do about it.
public enum HarnessError: Error, CustomStringConvertible {
    /// A binary the test needs is not installed.
    case missingBinary(name: String, package: String)
    /// A process exited before it became ready.
    case exitedEarly(name: String, status: Int32, log: String)
    /// A condition did not come true before the deadline.
    case timedOut(what: String, after: Duration, lastError: String?)
    /// A system call failed.
    case system(String)
    /// A helper command failed.
    case commandFailed(command: String, status: Int32, output: String)

    public var description: String {
        switch self {
        case .missingBinary(let name, let package):
            "'\(name)' is not installed: run scripts/setup (it installs the Debian package '\(package)')"
        case .exitedEarly(let name, let status, let log):
            "\(name) exited with status \(status) before it was ready; the end of its log:\n\(log)"
        case .timedOut(let what, let after, let lastError):
            "timed out after \(after) waiting for \(what)" + (lastError.map { "; last error: \($0)" } ?? "")
        case .system(let message):
            message
        case .commandFailed(let command, let status, let output):
            "`\(command)` failed with status \(status): \(output)"
        }
    }
}
