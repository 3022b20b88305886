import Foundation

/// Reads the process environment (the shell around the pure parts of the CLI).
enum Environment {
    /// The value of `name`, or `nil` when unset or empty.
    static func value(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}
