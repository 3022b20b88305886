/// A comparison against a constant, written like PromQL: `> 0.05`, `<= 10`, `== 0`.
public struct Threshold: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The comparison operator.
    public enum Comparison: String, Sendable, Hashable, Codable, CaseIterable {
        /// `>`
        case greater = ">"
        /// `>=`
        case greaterOrEqual = ">="
        /// `<`
        case less = "<"
        /// `<=`
        case lessOrEqual = "<="
        /// `==`
        case equal = "=="
        /// `!=`
        case notEqual = "!="
    }

    /// The operator.
    public var comparison: Comparison
    /// The constant it compares with.
    public var value: Double

    /// Creates a threshold.
    public init(_ comparison: Comparison, _ value: Double) {
        self.comparison = comparison
        self.value = value
    }

    /// Parses `"> 0.05"` (spaces optional); `nil` when malformed.
    public init?(parsing text: String) {
        let trimmed = text.filter { !$0.isWhitespace }
        // Longest operators first, so that ">=" is not read as ">".
        let ordered = Comparison.allCases.sorted { $0.rawValue.count > $1.rawValue.count }
        guard let comparison = ordered.first(where: { trimmed.hasPrefix($0.rawValue) }) else { return nil }
        let number = String(trimmed.dropFirst(comparison.rawValue.count))
        guard let value = Double(number), value.isFinite else { return nil }
        self.init(comparison, value)
    }

    /// Whether `sample` satisfies the comparison. NaN satisfies none.
    public func matches(_ sample: Double) -> Bool {
        guard !sample.isNaN else { return false }
        switch comparison {
        case .greater: return sample > value
        case .greaterOrEqual: return sample >= value
        case .less: return sample < value
        case .lessOrEqual: return sample <= value
        case .equal: return sample == value
        case .notEqual: return sample != value
        }
    }

    /// Whether some value satisfies both thresholds (a rule's unhealthy and healthy must never overlap).
    public func overlaps(_ other: Threshold) -> Bool {
        var candidates: [Double] = [-.infinity, .infinity, value, other.value, (value + other.value) / 2]
        for bound in [value, other.value] {
            candidates.append(bound.nextUp)
            candidates.append(bound.nextDown)
        }
        return candidates.contains { matches($0) && other.matches($0) }
    }

    /// `> 0.05`
    public var description: String { "\(comparison.rawValue) \(value)" }
}
