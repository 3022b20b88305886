#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Where rule expressions are evaluated: Prometheus in production, a scripted fake in tests.
public protocol MetricsSource: Sendable {
    /// Evaluates `expression` at `time`. Never throws: a failure is an observation (``RuleObservation/Outcome/failed(_:)``)
    /// that makes every verdict of the rule unknown.
    func observe(_ expression: String, at time: Date) async -> RuleObservation
    /// ``observe(_:at:)`` where only the labels named in `labels` are needed (the engine reads series through
    /// the pools' target templates and nothing else); a source may drop the others.
    func observe(_ expression: String, at time: Date, keepingLabels labels: Set<String>) async -> RuleObservation
    /// Evaluates a freshness query (``Engine/freshnessChecks``): its series name the servers whose data is stale. A
    /// separate entry so that fakes can answer "all fresh" without being told each query's text.
    func observeFreshness(_ query: String, at time: Date, keepingLabels labels: Set<String>) async -> RuleObservation
}

extension MetricsSource {
    /// A source that cannot drop labels keeps them all.
    public func observe(_ expression: String, at time: Date, keepingLabels labels: Set<String>) async -> RuleObservation {
        await observe(expression, at: time)
    }

    /// A freshness query is a query like any other.
    public func observeFreshness(_ query: String, at time: Date, keepingLabels labels: Set<String>) async -> RuleObservation {
        await observe(query, at: time, keepingLabels: labels)
    }
}
