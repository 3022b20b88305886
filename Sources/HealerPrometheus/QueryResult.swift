public import Foundation
public import SeriesLabels

/// The answer to an expression query: the result and what the server said about its quality.
public struct QueryResponse: Sendable {
    /// The result.
    public var result: QueryResult
    /// Warnings sent with a successful answer (for example a partial response). Data with warnings is not
    /// trustworthy enough to act on.
    public var warnings: [String]
    /// Informational notes (Prometheus ≥ 2.54).
    public var infos: [String]

    /// Creates a response.
    public init(result: QueryResult, warnings: [String] = [], infos: [String] = []) {
        self.result = result
        self.warnings = warnings
        self.infos = infos
    }
}

/// A PromQL result, by its `resultType`.
public enum QueryResult: Sendable, Equatable {
    /// An instant vector: one sample per series (order not guaranteed).
    case vector([Sample])
    /// A range vector: the points of each series, sorted by labels.
    case matrix([Series])
    /// A single number.
    case scalar(Point)
    /// A string literal.
    case string(String, at: Date)

    /// The result with only the labels named in `names` on each series.
    public func keepingLabels(_ names: Set<String>) -> QueryResult {
        switch self {
        case .vector(let samples): .vector(samples.map { Sample(labels: $0.labels.keeping(names), point: $0.point) })
        case .matrix(let series): .matrix(series.map { Series(labels: $0.labels.keeping(names), points: $0.points) })
        case .scalar, .string: self
        }
    }

    /// The result type as Prometheus names it.
    public var resultType: String {
        switch self {
        case .vector: "vector"
        case .matrix: "matrix"
        case .scalar: "scalar"
        case .string: "string"
        }
    }
}

/// One value at one time. `value` may be NaN or ±Inf.
public struct Point: Sendable, Equatable {
    /// The time of the value: for instant queries the evaluation time, not the time of the scrape.
    public var timestamp: Date
    /// The value.
    public var value: Double

    /// Creates a point.
    public init(timestamp: Date, value: Double) {
        self.timestamp = timestamp
        self.value = value
    }

    /// Equal when timestamps match and the values are equal or both NaN.
    public static func == (lhs: Point, rhs: Point) -> Bool {
        lhs.timestamp == rhs.timestamp && (lhs.value == rhs.value || (lhs.value.isNaN && rhs.value.isNaN))
    }
}

/// One series of an instant vector.
public struct Sample: Sendable, Equatable {
    /// The series' labels, `__name__` included when the expression kept it.
    public var labels: Labels
    /// Its value.
    public var point: Point

    /// Creates a sample.
    public init(labels: Labels, point: Point) {
        self.labels = labels
        self.point = point
    }

    /// The value.
    public var value: Double { point.value }
    /// The evaluation time.
    public var timestamp: Date { point.timestamp }
}

/// One series of a range vector.
public struct Series: Sendable, Equatable {
    /// The series' labels.
    public var labels: Labels
    /// Its points in time order.
    public var points: [Point]

    /// Creates a series.
    public init(labels: Labels, points: [Point]) {
        self.labels = labels
        self.points = points
    }
}
