public import Foundation
public import HealerCore
public import HealerPrometheus
import SeriesLabels

/// Evaluates rule expressions with the Prometheus HTTP API.
///
/// Each query is pinned to the pass's time (`time=`), so that every rule of a pass sees the same instant.
/// An instant vector becomes one sample per series; a scalar one sample without labels; any error, or a
/// string or matrix result, a failed observation (all verdicts unknown).
public struct PrometheusMetricsSource: MetricsSource {
    private let client: PrometheusClient

    /// Creates a source over `client`.
    public init(client: PrometheusClient) {
        self.client = client
    }

    public func observe(_ expression: String, at time: Date) async -> RuleObservation {
        await observe(expression, at: time, keeping: nil)
    }

    /// Only the labels in `labels` are read from the answer.
    public func observe(_ expression: String, at time: Date, keepingLabels labels: Set<String>) async -> RuleObservation {
        await observe(expression, at: time, keeping: labels)
    }

    private func observe(_ expression: String, at time: Date, keeping labels: Set<String>?) async -> RuleObservation {
        do {
            let answer = try await client.queryInstant(expression, at: time, keepingLabels: labels)
            switch answer.result {
            case .series(let samples):
                return .series(samples, warnings: answer.warnings, at: time)
            case .scalar(let point):
                return .series([SeriesSample(labels: [:], value: point.value)], warnings: answer.warnings, at: point.timestamp)
            case .other(let resultType):
                return .failed(.wrongResultType, "the expression returns a \(resultType); rules need an instant vector")
            }
        } catch let error as PrometheusError {
            return .failed(Self.reason(error), error.description)
        } catch {
            return .failed(.other, String(describing: error))
        }
    }

    /// The rule failure reason of a Prometheus error. Only Prometheus' own error envelope can say an expression is
    /// malformed: a 400 page from a proxy or a gateway in front of it says nothing about the rule.
    static func reason(_ error: PrometheusError) -> RuleFailure.Reason {
        switch error.kind {
        case .badData: error.errorType == nil ? .invalidResponse : .badData
        case .execution: .execution
        case .timeout: .timeout
        case .canceled: .canceled
        case .internal: .internal
        case .notFound: .notFound
        case .unavailable: .unavailable
        case .unauthorized: .unauthorized
        case .invalidResponse: .invalidResponse
        case .transport: .transport
        case .other: .other
        }
    }
}
