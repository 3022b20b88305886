import Foundation

/// Executables of this package, built next to the test bundle by `swift build` / `swift test`.
public enum BuiltProduct {
    /// The absolute path of product `name` (e.g. `healer`) in the build directory of the running tests.
    ///
    /// - Throws: ``HarnessError/system(_:)`` naming the path and the command that builds it.
    public static func path(_ name: String) throws -> String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the runner is `<build>/healerPackageTests.xctest`; on macOS a bundle inside <build>.
        while directory.path != "/", !FileManager.default.fileExists(atPath: directory.path + "/" + name) {
            if directory.lastPathComponent == ".build" { break }
            directory.deleteLastPathComponent()
        }
        let candidate = directory.path + "/" + name
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw HarnessError.system("\(name) is not built next to the tests (looked in \(directory.path)); run `swift build` first")
        }
        return candidate
    }
}
