import Foundation

/// Reads the configuration and rule files: at most a few MiB, valid UTF-8, a leading byte-order mark skipped.
///
/// A file that is not UTF-8 is refused, naming the line and column of the first bad byte, instead of having the bad
/// bytes replaced (a name with a replacement character would match nothing and say nothing). The limits keep a
/// mistaken file (a log, a dump) from taking seconds and hundreds of MiB to be refused.
enum TextFile {
    /// `healer.yaml`.
    static let configurationLimit = 1 << 20
    /// One rule file.
    static let ruleFileLimit = 4 << 20
    /// A file of secrets (a password file).
    static let secretLimit = 64 << 10

    /// The text of `path`, or why it cannot be read.
    static func read(_ path: String, limit: Int) -> Result<String, ConfigurationError.Reason> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .failure(.init(text: "no such file")) }
        guard !isDirectory.boolValue else { return .failure(.init(text: "is a directory, not a file")) }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > limit {
            return .failure(.init(text: "is \(Self.size(size)), more than the \(Self.size(limit)) such a file may be"))
        }
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(.init(text: "permission denied or not a file")) }
        guard data.count <= limit else { return .failure(.init(text: "is more than the \(Self.size(limit)) such a file may be")) }
        return decode(data)
    }

    /// `data` as text: UTF-8, without a leading byte-order mark.
    static func decode(_ data: Data) -> Result<String, ConfigurationError.Reason> {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let (line, column) = firstInvalidByte(bytes)
            return .failure(.init(text: "is not UTF-8: an invalid byte at line \(line), column \(column)"))
        }
        return .success(text)
    }

    /// The 1-based line and column of the first byte that does not belong to valid UTF-8.
    private static func firstInvalidByte(_ bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        var index = 0
        while index < bytes.count {
            let length = validSequenceLength(bytes, at: index)
            guard length > 0 else { break }
            if bytes[index] == UInt8(ascii: "\n") {
                line += 1
                lineStart = index + 1
            }
            index += length
        }
        return (line, index - lineStart + 1)
    }

    /// The length of the valid UTF-8 sequence starting at `index`, or 0 when it is not one.
    private static func validSequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let end = min(bytes.count, index + 4)
        for length in 1...4 where index + length <= end {
            if String(validating: bytes[index..<index + length], as: UTF8.self) != nil { return length }
        }
        return 0
    }

    private static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? "\((Double(bytes) / 1_048_576 * 10).rounded() / 10) MiB" : "\(bytes / 1024) KiB"
    }
}
