#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// One series of an instant answer: its labels and its value, as the engine judges it.
///
/// Here, beside ``Labels``, so that the Prometheus client's reader can make the engine's samples straight from an
/// answer: a copy from the client's own `Sample`s cost a tenth of a pass at 10k servers (200k samples made, and
/// 200k freed), and the engine is not to know the client.
public struct SeriesSample: Sendable, Equatable {
    /// Its labels.
    public var labels: Labels
    /// Its value.
    public var value: Double
    /// When the underlying sample was scraped, when known (an instant query's answer does not say: its samples all
    /// carry the evaluation time).
    public var sampledAt: Date?

    /// Equal when the labels and times match and the values are equal or both NaN (a NaN sample is itself).
    public static func == (lhs: SeriesSample, rhs: SeriesSample) -> Bool {
        lhs.labels == rhs.labels && lhs.sampledAt == rhs.sampledAt && (lhs.value == rhs.value || (lhs.value.isNaN && rhs.value.isNaN))
    }

    /// Creates a sample.
    public init(labels: Labels, value: Double, sampledAt: Date? = nil) {
        self.labels = labels
        self.value = value
        self.sampledAt = sampledAt
    }
}
