public import SeriesLabels

/// An instant query's answer in the form the engine judges it: an instant vector as ``SeriesSample``s.
///
/// What ``PrometheusClient/queryInstant(_:at:timeout:keepingLabels:)`` returns. The reader makes the samples straight
/// from the answer's bytes: at 10k servers × 20 rules, making the client's ``Sample``s and copying them into the
/// engine's, then freeing both, was a tenth of a pass.
public struct InstantAnswer: Sendable, Equatable {
    /// What the expression returned.
    public enum Result: Sendable, Equatable {
        /// An instant vector: a sample per series, without a scrape time (an instant query's samples all carry the
        /// evaluation time).
        case series([SeriesSample])
        /// A scalar.
        case scalar(Point)
        /// Any other result, by its `resultType` (`matrix`, `string`).
        case other(resultType: String)
    }

    /// The result.
    public var result: Result
    /// Warnings sent with a successful answer: data with warnings is not trustworthy enough to act on.
    public var warnings: [String]
    /// Informational notes.
    public var infos: [String]

    /// Creates an answer.
    public init(result: Result, warnings: [String] = [], infos: [String] = []) {
        self.result = result
        self.warnings = warnings
        self.infos = infos
    }

    /// The same answer as a ``QueryResponse`` says it (the slow path, through `JSONDecoder`).
    public init(_ response: QueryResponse) {
        switch response.result {
        case .vector(let samples): result = .series(samples.map { SeriesSample(labels: $0.labels, value: $0.value) })
        case .scalar(let point): result = .scalar(point)
        case .matrix, .string: result = .other(resultType: response.result.resultType)
        }
        warnings = response.warnings
        infos = response.infos
    }
}
