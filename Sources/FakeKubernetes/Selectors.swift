import Foundation

/// Label and field selectors, as the API server reads them from `labelSelector=` and `fieldSelector=`.
struct Selector: Sendable {
    enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case exists(String)
        case notExists(String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
    }

    var requirements: [Requirement]

    /// Parses `a=b,c!=d,e,!f,g in (x,y),h notin (z)`.
    init(parsing text: String) throws(FakeAPIError) {
        var requirements: [Requirement] = []
        for term in Self.terms(text) {
            let term = term.trimmingCharacters(in: .whitespaces)
            guard !term.isEmpty else { continue }
            if let range = term.range(of: " notin ") ?? term.range(of: " in ") {
                let key = String(term[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
                let list = term[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard list.hasPrefix("("), list.hasSuffix(")") else { throw .badRequest("unable to parse requirement: \(term)") }
                let values = Set(list.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                requirements.append(term[range].contains("notin") ? .notIn(key, values) : .isIn(key, values))
            } else if let range = term.range(of: "!=") {
                requirements.append(.notEquals(String(term[..<range.lowerBound]), String(term[range.upperBound...])))
            } else if let range = term.range(of: "==") ?? term.range(of: "=") {
                requirements.append(.equals(String(term[..<range.lowerBound]), String(term[range.upperBound...])))
            } else if term.hasPrefix("!") {
                requirements.append(.notExists(String(term.dropFirst())))
            } else {
                requirements.append(.exists(term))
            }
        }
        self.requirements = requirements
    }

    /// Whether `lookup` (a label or field value by name) satisfies every requirement.
    func matches(_ lookup: (String) -> String?) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): lookup(key) == value
            case .notEquals(let key, let value): lookup(key) != value
            case .exists(let key): lookup(key) != nil
            case .notExists(let key): lookup(key) == nil
            case .isIn(let key, let values): lookup(key).map(values.contains) ?? false
            case .notIn(let key, let values): lookup(key).map { !values.contains($0) } ?? true
            }
        }
    }

    /// Splits on commas outside parentheses.
    private static func terms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "(": depth += 1
            case ")": depth -= 1
            case "," where depth == 0:
                terms.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        terms.append(current)
        return terms
    }
}
