import Foundation

/// A fresh directory under the system's temporary directory, removed by ``remove()``.
public struct TemporaryDirectory: Sendable {
    /// Its absolute path.
    public let path: String

    /// Creates `healer-<prefix>-<random>`.
    public init(prefix: String) throws {
        let path = FileManager.default.temporaryDirectory.path + "/healer-\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    /// Writes `text` to `name` inside the directory and returns the file's path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Deletes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Creates a directory, runs `body` in it, and removes it afterwards (also when `body` throws).
    @discardableResult
    public static func with<R: Sendable>(prefix: String, _ body: (TemporaryDirectory) async throws -> R) async throws -> R {
        let directory = try TemporaryDirectory(prefix: prefix)
        do {
            let result = try await body(directory)
            directory.remove()
            return result
        } catch {
            directory.remove()
            throw error
        }
    }
}
