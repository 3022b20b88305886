public import SeriesLabels

/// A value built from a series' labels, written `{{ $labels.server }}` like a Prometheus alert template:
/// literal text with `{{ $labels.NAME }}` placeholders.
public struct TargetTemplate: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A piece of the template.
    public enum Part: Sendable, Hashable, Codable {
        /// Text copied as is.
        case literal(String)
        /// The value of a label.
        case label(String)
    }

    /// The pieces in order.
    public var parts: [Part]

    /// Parses `text`.
    ///
    /// - Throws: ``TemplateError`` naming the problem (an unclosed `{{`, anything but `$labels.NAME` inside).
    public init(parsing text: String) throws(TemplateError) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else { throw TemplateError(message: "'{{' without '}}'") }
            let inside = rest[open.upperBound..<close.lowerBound].trimmingWhitespace()
            guard inside.hasPrefix("$labels."), case let name = String(inside.dropFirst("$labels.".count)), Self.isLabelName(name) else {
                throw TemplateError(message: "expected {{ $labels.NAME }}, found {{ \(inside) }}")
            }
            parts.append(.label(name))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        guard !parts.isEmpty else { throw TemplateError(message: "empty template") }
        self.parts = parts
    }

    /// Creates a template that reads one label.
    public init(label: String) {
        parts = [.label(label)]
    }

    /// The rendered value, or `nil` when a label it needs is missing or empty in `labels`.
    public func render(_ labels: Labels) -> String? {
        if let name = singleLabel { return Self.value(of: name, in: labels) }  // the common `{{ $labels.server }}`, without copying
        var text = ""
        for part in parts {
            switch part {
            case .literal(let literal): text += literal
            case .label(let name):
                guard let value = Self.value(of: name, in: labels) else { return nil }
                text += value
            }
        }
        return text
    }

    /// The value of label `name` in `labels`, or `nil` when it is missing or empty: such a series names nothing.
    @inline(__always)
    static func value(of name: String, in labels: Labels) -> String? {
        guard let value = labels[name], !value.isEmpty else { return nil }
        return value
    }

    /// The label's name when the template is that one label and nothing else (`{{ $labels.server }}`).
    public var singleLabel: String? {
        if parts.count == 1, case .label(let name) = parts[0] { name } else { nil }
    }

    /// The label names it reads.
    public var labelNames: [String] {
        parts.compactMap { if case .label(let name) = $0 { name } else { nil } }
    }

    public var description: String {
        parts.map { part in
            switch part {
            case .literal(let text): text
            case .label(let name): "{{ $labels.\(name) }}"
            }
        }.joined()
    }

    private static func isLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}

/// A malformed ``TargetTemplate``.
public struct TemplateError: Error, Sendable, Equatable {
    /// What is wrong.
    public var message: String
}

extension StringProtocol {
    /// The text without leading and trailing white space (the core has no Foundation string helpers).
    public func trimmingWhitespace() -> String {
        var view = Substring(self)
        while view.first?.isWhitespace == true { view.removeFirst() }
        while view.last?.isWhitespace == true { view.removeLast() }
        return String(view)
    }
}
