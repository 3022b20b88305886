import Foundation

/// Finds the binaries of the real services that tests run.
public enum Executable {
    /// The absolute path of `name`, searched in `PATH` and the system directories that a non-login
    /// shell may lack (`/usr/sbin` holds haproxy).
    ///
    /// - Parameter package: the Debian package that installs it, named in the error.
    /// - Throws: ``HarnessError/missingBinary(name:package:)``: a test that needs a missing binary fails, never skips.
    public static func find(_ name: String, package: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories =
            path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw HarnessError.missingBinary(name: name, package: package)
    }
}
