import HealerCore
import Yams

/// Collects configuration errors while a file is read, so that all of them are reported at once.
final class Diagnostics {
    private(set) var errors: [ConfigurationError] = []

    func report(_ location: SourceLocation, _ field: String, _ message: String) {
        errors.append(ConfigurationError(location: location, field: field, message: message))
    }
}

/// A YAML node with its file, position and dotted path: everything needed to read it and to say where it is wrong.
struct YAMLField {
    let node: Node
    let path: String
    let file: String
    let diagnostics: Diagnostics

    var location: SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
    }

    func error(_ message: String) {
        diagnostics.report(location, path, message)
    }

    private func child(_ node: Node, _ component: String) -> YAMLField {
        YAMLField(node: node, path: path.isEmpty ? component : "\(path).\(component)", file: file, diagnostics: diagnostics)
    }

    /// A description of the node for messages: the scalar quoted, or its kind.
    var shown: String {
        switch node {
        case .scalar(let scalar): "\"\(scalar.string)\""
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    // MARK: - Structure

    /// The entries of a mapping; unknown keys (not in `allowed`) are reported, with a suggestion when one is close.
    func mapping(allowed: [String]) -> [String: YAMLField]? {
        guard case .mapping(let mapping) = node else {
            error("expected a mapping with keys \(allowed.joined(separator: ", ")), got \(shown)")
            return nil
        }
        var fields: [String: YAMLField] = [:]
        for (key, value) in mapping {
            guard let name = key.string else {
                error("keys must be strings")
                continue
            }
            let field = child(value, name)
            guard allowed.contains(name) else {
                let keyField = YAMLField(node: key, path: field.path, file: file, diagnostics: diagnostics)
                let hint = Self.closest(to: name, in: allowed).map { "; did you mean \"\($0)\"?" } ?? " (allowed: \(allowed.joined(separator: ", ")))"
                keyField.error("unknown key\(hint)")
                continue
            }
            fields[name] = field
        }
        return fields
    }

    /// The entries of a mapping whose keys are names chosen by the user (pools, actuators).
    func namedEntries() -> [(name: String, field: YAMLField, keyLocation: SourceLocation)]? {
        guard case .mapping(let mapping) = node else {
            error("expected a mapping of names to settings, got \(shown)")
            return nil
        }
        return mapping.compactMap { key, value in
            guard let name = key.string else { return nil }
            let location = SourceLocation(file: file, line: key.mark?.line ?? 0, column: key.mark?.column ?? 0)
            if let problem = Self.nameProblem(name) {
                diagnostics.report(location, path.isEmpty ? "(key)" : path, "\(problem) in the name \(name.debugDescription)")
                return nil
            }
            return (name, child(value, name), location)
        }
    }

    /// The items of a list.
    func sequence() -> [YAMLField]? {
        guard case .sequence(let sequence) = node else {
            error("expected a list, got \(shown)")
            return nil
        }
        return sequence.enumerated().map { index, item in
            YAMLField(node: item, path: "\(path)[\(index)]", file: file, diagnostics: diagnostics)
        }
    }

    // MARK: - Scalars

    var scalarText: String? {
        if case .scalar(let scalar) = node { scalar.string } else { nil }
    }

    func string(nonEmpty: Bool = true) -> String? {
        guard let text = scalarText else {
            error("expected a string, got \(shown)")
            return nil
        }
        if nonEmpty, text.trimmingWhitespace().isEmpty {
            error("must not be empty")
            return nil
        }
        return text
    }

    /// A name (a pool, rule, group, backend, server): a string without control or invisible formatting characters,
    /// which would show as something else than it is (a right-to-left override) or not at all (NUL, zero widths).
    func name() -> String? {
        guard let text = string() else { return nil }
        if let problem = Self.nameProblem(text) {
            error(problem)
            return nil
        }
        return text
    }

    /// Why `text` cannot be a name, or `nil`.
    static func nameProblem(_ text: String) -> String? {
        for (offset, scalar) in text.unicodeScalars.enumerated()
        where [.control, .format, .lineSeparator, .paragraphSeparator].contains(scalar.properties.generalCategory) {
            let code = "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
            return "must not contain control or invisible formatting characters (\(code) at character \(offset + 1))"
        }
        return nil
    }

    /// A duration of at most `max` (a week unless the field says less: a longer one is a typo, not a setting).
    func duration(allowZero: Bool = true, max: Duration = .seconds(7 * 86_400)) -> Duration? {
        guard let text = scalarText, let duration = PrometheusDuration.parse(text.trimmingWhitespace()) else {
            error("expected a duration such as 500ms, 30s, 5m or 1h, got \(shown)")
            return nil
        }
        if !allowZero, duration == .zero {
            error("must be longer than 0s")
            return nil
        }
        if duration > max {
            error("must be at most \(PrometheusDuration.format(max)), got \(text.trimmingWhitespace())")
            return nil
        }
        return duration
    }

    func int(in range: ClosedRange<Int>) -> Int? {
        guard let text = scalarText, let value = Int(text.trimmingWhitespace()) else {
            error("expected a whole number, got \(shown)")
            return nil
        }
        guard range.contains(value) else {
            error("must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    func double(in range: ClosedRange<Double>) -> Double? {
        guard let text = scalarText, let value = Double(text.trimmingWhitespace()), value.isFinite else {
            error("expected a number, got \(shown)")
            return nil
        }
        guard range.contains(value) else {
            error("must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    func bool() -> Bool? {
        switch scalarText?.trimmingWhitespace().lowercased() {
        case "true"?: return true
        case "false"?: return false
        default:
            error("expected true or false, got \(shown)")
            return nil
        }
    }

    /// `60%` or a fraction such as `0.6`; returns the fraction.
    func share() -> Double? {
        guard let text = scalarText?.trimmingWhitespace() else {
            error("expected a percentage such as 60%, got \(shown)")
            return nil
        }
        let value = text.hasSuffix("%") ? Double(text.dropLast().trimmingWhitespace()).map { $0 / 100 } : Double(text)
        guard let value, value.isFinite else {
            error("expected a percentage such as 60%, got \(shown)")
            return nil
        }
        guard (0...1).contains(value) else {
            error("must be between 0% and 100%, got \(text)")
            return nil
        }
        return value
    }

    /// `25%` as a whole percentage from 1 to 100.
    func weightPercent() -> Int? {
        guard let text = scalarText?.trimmingWhitespace(), text.hasSuffix("%"), let value = Int(text.dropLast().trimmingWhitespace()) else {
            error("expected a weight percentage such as 25%, got \(shown)")
            return nil
        }
        guard (1...100).contains(value) else {
            error("must be between 1% and 100%, got \(text)")
            return nil
        }
        return value
    }

    func threshold() -> Threshold? {
        guard let text = scalarText, let threshold = Threshold(parsing: text) else {
            error("expected a comparison such as \"> 0.05\" or \"<= 100\", got \(shown)")
            return nil
        }
        return threshold
    }

    func stringList() -> [String]? {
        guard let items = sequence() else { return nil }
        let strings = items.compactMap { $0.string() }
        return strings.count == items.count ? strings : nil
    }

    /// A list of names (``name()``).
    func nameList() -> [String]? {
        guard let items = sequence() else { return nil }
        let names = items.compactMap { $0.name() }
        return names.count == items.count ? names : nil
    }

    func stringMap() -> [String: String]? {
        guard let entries = namedEntries() else { return nil }
        var map: [String: String] = [:]
        for entry in entries {
            guard let value = entry.field.string(nonEmpty: false) else { continue }
            map[entry.name] = value
        }
        return map
    }

    func template() -> TargetTemplate? {
        guard let text = string() else { return nil }
        do {
            return try TargetTemplate(parsing: text)
        } catch {
            self.error("bad template: \(error.message)")
            return nil
        }
    }

    /// The allowed name closest to `name` by edit distance, when it is a likely typo.
    static func closest(to name: String, in allowed: [String]) -> String? {
        let scored = allowed.map { ($0, distance(name, $0)) }.min { $0.1 < $1.1 }
        guard let best = scored, best.1 <= max(2, name.count / 3) else { return nil }
        return best.0
    }

    private static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var row = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var previous = row[0]
            row[0] = i + 1
            for (j, y) in b.enumerated() {
                let current = row[j + 1]
                row[j + 1] = min(row[j + 1] + 1, row[j] + 1, previous + (x == y ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
}

/// Parses `text` into a node tree, turning YAML syntax errors into a located ``ConfigurationError``.
func composeYAML(_ text: String, file: String, diagnostics: Diagnostics) -> Node? {
    do {
        // A byte-order mark is no part of the document (editors on Windows write one).
        return try Yams.compose(yaml: text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
    } catch let error as YamlError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            diagnostics.report(SourceLocation(file: file, line: mark.line, column: mark.column), "", "YAML syntax error: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            diagnostics.report(
                SourceLocation(file: file, line: context.mark.line, column: context.mark.column), "",
                "duplicate key\(duplicates.count > 1 ? "s" : "") \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) in one mapping")
        default:
            diagnostics.report(SourceLocation(file: file), "", "YAML error: \(error)")
        }
        return nil
    } catch {
        diagnostics.report(SourceLocation(file: file), "", "YAML error: \(error)")
        return nil
    }
}

extension String {
    /// The string with `0`s before it up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
