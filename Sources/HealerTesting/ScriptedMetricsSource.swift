public import Foundation
public import HealerCore
import SeriesLabels
import Synchronization

/// A metrics source whose answers a test sets per expression, and which can hold queries until released.
public final class ScriptedMetricsSource: MetricsSource, Sendable {
    private struct State {
        var answers: [String: RuleObservation] = [:]
        var held = false
        var waiting: [CheckedContinuation<Void, Never>] = []
        var queries: [(expression: String, time: Date)] = []
        var keptLabels: [String: Set<String>] = [:]
        var freshnessQueries: [String] = []
    }

    private let state = Mutex(State())

    /// Creates a source that answers "no answer" to everything until told otherwise.
    public init() {}

    /// Sets the answer for `expression`: one series per server with label `server`.
    public func set(_ expression: String, values: [String: Double]) {
        let samples = values.sorted { $0.key < $1.key }.map { SeriesSample(labels: ["server": $0.key], value: $0.value) }
        state.withLock { $0.answers[expression] = .series(samples) }
    }

    /// Sets the answer for `expression` as given.
    public func answer(_ expression: String, _ observation: RuleObservation) {
        state.withLock { $0.answers[expression] = observation }
    }

    /// Sets the answer for `expression` to a failure.
    public func fail(_ expression: String, reason: RuleFailure.Reason = .unavailable, message: String = "scripted failure") {
        state.withLock { $0.answers[expression] = .failed(reason, message) }
    }

    /// From now on, queries wait until ``release()``.
    public func hold() {
        state.withLock { $0.held = true }
    }

    /// Lets waiting and future queries through.
    public func release() {
        let waiting = state.withLock { state in
            state.held = false
            defer { state.waiting = [] }
            return state.waiting
        }
        waiting.forEach { $0.resume() }
    }

    /// How many queries are waiting for ``release()``.
    public var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Every query so far.
    public var queries: [(expression: String, time: Date)] { state.withLock { $0.queries } }

    /// The labels each expression was last asked to keep.
    public var keptLabels: [String: Set<String>] { state.withLock { $0.keptLabels } }

    /// Records the labels asked for, then answers as ``observe(_:at:)`` (the scripted series keep all theirs).
    public func observe(_ expression: String, at time: Date, keepingLabels labels: Set<String>) async -> RuleObservation {
        state.withLock { $0.keptLabels[expression] = labels }
        return await observe(expression, at: time)
    }

    /// Answers a freshness query as scripted with ``set(_:values:)`` or ``fail(_:reason:message:)``; unscripted,
    /// all data is fresh (no series).
    public func observeFreshness(_ query: String, at time: Date, keepingLabels labels: Set<String>) async -> RuleObservation {
        state.withLock { $0.freshnessQueries.append(query) }
        return state.withLock { $0.answers[query] } ?? .series([], at: time)
    }

    /// Every freshness query so far.
    public var freshnessQueries: [String] { state.withLock { $0.freshnessQueries } }

    public func observe(_ expression: String, at time: Date) async -> RuleObservation {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let proceed = state.withLock { state -> Bool in
                state.queries.append((expression, time))
                if state.held { state.waiting.append(continuation) }
                return !state.held
            }
            if proceed { continuation.resume() }
        }
        let answer = state.withLock { $0.answers[expression] }
        guard var answer else { return .failed(.noAnswer, "no scripted answer for \(expression)") }
        if answer.evaluatedAt == nil, case .series = answer.outcome { answer.evaluatedAt = time }
        return answer
    }
}

/// An actuator that records every call and answers with a programmable outcome.
public final class RecordingActuator: Actuator, Sendable {
    private let state = Mutex<[ActuatorCall]>([])
    private let outcome: @Sendable (ActuatorCall) -> ActionOutcome

    /// Creates an actuator answering `outcome` (success by default).
    public init(outcome: @escaping @Sendable (ActuatorCall) -> ActionOutcome = { _ in ActionOutcome(.success) }) {
        self.outcome = outcome
    }

    /// Every call so far.
    public var calls: [ActuatorCall] { state.withLock { $0 } }

    public func execute(_ call: ActuatorCall) async -> ActionOutcome {
        state.withLock { $0.append(call) }
        return outcome(call)
    }
}
