/// Where something was written: a file and a 1-based line (0 when unknown), for error messages.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file path as the user gave it.
    public var file: String
    /// The line, 1-based; 0 when unknown.
    public var line: Int
    /// The column, 1-based; 0 when unknown.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int = 0, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, or less when parts are unknown.
    public var description: String {
        line > 0 ? (column > 0 ? "\(file):\(line):\(column)" : "\(file):\(line)") : file
    }
}
