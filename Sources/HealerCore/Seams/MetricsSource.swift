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
}
