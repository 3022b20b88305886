public import HealerCore

/// One problem in a configuration or rule file: where, which field, and what is wrong, in words.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where.
    public var location: SourceLocation
    /// The field's path, e.g. `pools.web.min_healthy_capacity` or `groups[0].rules[1].ladder[2]`.
    public var field: String
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(location: SourceLocation, field: String, message: String) {
        self.location = location
        self.field = field
        self.message = message
    }

    /// `rules/web.yaml:12:9: groups[0].rules[0].for: expected a duration such as 30s, got "soon"`
    public var description: String {
        field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
    }
}

/// Every problem found in a configuration and its rule files. Nothing is loaded when there is one.
public struct ConfigurationErrors: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems, in file and line order.
    public var errors: [ConfigurationError]

    /// Creates the list, sorted by file, line and column.
    public init(_ errors: [ConfigurationError]) {
        self.errors = errors.sorted {
            ($0.location.file, $0.location.line, $0.location.column) < ($1.location.file, $1.location.line, $1.location.column)
        }
    }

    /// One error per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
