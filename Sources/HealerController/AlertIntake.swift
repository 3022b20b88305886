import DequeModule
public import Foundation
public import HealerCore
import SeriesLabels
import Synchronization

/// An Alertmanager webhook payload (version 4). Unknown fields are ignored.
public struct AlertmanagerPayload: Decodable, Sendable {
    /// One alert of the group.
    public struct Alert: Decodable, Sendable {
        /// `firing` or `resolved`.
        public var status: String
        /// The alert's labels.
        public var labels: [String: String]
        /// When it started, as sent.
        public var startsAt: String
        /// When it ended; year 1 while firing.
        public var endsAt: String?
        /// The hash of the label set: with `startsAt`, the idempotency key.
        public var fingerprint: String?
    }

    /// The payload version; Healer reads version 4.
    public var version: String
    /// The receiver, regex-quoted by Alertmanager.
    public var receiver: String?
    /// The group's alerts.
    public var alerts: [Alert]
    /// The group key.
    public var groupKey: String?

    /// Why Healer does not take this payload, or `nil`: a version other than 4 (its fields may mean something else),
    /// or an alert whose `startsAt` is not an RFC 3339 time (it is half of the idempotency key).
    public var problem: String? {
        guard version == "4" else { return "version \(version.debugDescription): Healer reads Alertmanager's webhook version \"4\"" }
        for (index, alert) in alerts.enumerated() where Self.rfc3339(alert.startsAt) == nil {
            return "alerts[\(index)].startsAt: \(alert.startsAt.debugDescription) is not an RFC 3339 time"
        }
        return nil
    }

    /// An RFC 3339 time as Go writes it (`2026-11-30T10:00:00.123456789Z`, `…+01:00`), or `nil`.
    static func rfc3339(_ text: String) -> Date? {
        let pattern = #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"#
        guard text.range(of: pattern, options: .regularExpression) != nil else { return nil }
        var whole = text
        if let dot = text.firstIndex(of: ".") {
            let zone = text[dot...].firstIndex { $0 == "Z" || $0 == "+" || $0 == "-" } ?? text.endIndex
            whole = String(text[..<dot] + text[zone...])
        }
        return try? Date(whole, strategy: .iso8601)
    }
}

/// Turns Alertmanager deliveries into hints for the reconcile loop: each firing alert is matched to a recovery
/// rule (its `healer_rule` label, else its `alertname`) and to a server (the rule's pool templates applied to
/// the alert's labels), deduplicated by fingerprint and `startsAt`, and handed to the next pass, which acts
/// only if the rule's own query confirms it. Resolved alerts never trigger anything.
public final class AlertIntake: Sendable {
    /// What became of one alert.
    public enum Outcome: String, Sendable, Equatable {
        /// Handed to the next pass.
        case accepted
        /// Seen before (same fingerprint and start).
        case duplicate
        /// A resolved alert: ignored (an alert resolving is no proof of recovery).
        case resolved
        /// No recovery rule by that name.
        case unknownRule = "unknown_rule"
        /// The labels name no server of the rule's pool.
        case unknownTarget = "unknown_target"
    }

    /// The deliveries remembered for deduplication, oldest first, bounded by age and by count. A delivery is kept as
    /// the hash of its identity (fingerprint and start), so that its size does not depend on what a client sends.
    private struct Memory {
        var times: [Int: Date] = [:]
        var order: Deque<(identity: Int, time: Date)> = []
        /// Deliveries forgotten because the memory was full, before their age.
        var evicted = 0
        /// Of those, the ones not yet counted in the metric.
        var uncounted = 0

        mutating func forget(olderThan age: Double, keeping capacity: Int, now: Date) {
            while let oldest = order.first, now.timeIntervalSince(oldest.time) >= age || order.count > capacity {
                if now.timeIntervalSince(oldest.time) < age {
                    evicted += 1
                    uncounted += 1
                }
                order.removeFirst()
                times[oldest.identity] = nil
            }
        }
    }

    private let seen = Mutex(Memory())
    /// How long a delivery is remembered for deduplication.
    public let memory: Duration
    /// How many deliveries are remembered at most: beyond it the oldest are forgotten (and counted in ``evicted``).
    public let capacity: Int

    /// Creates an intake remembering deliveries for `memory`, at most `capacity` of them.
    public init(memory: Duration = .seconds(24 * 3600), capacity: Int = 50_000) {
        self.memory = memory
        self.capacity = max(1, capacity)
    }

    /// Deliveries forgotten because the memory was full (a re-delivery of one of them is accepted again, and the
    /// rule's own query still decides).
    public var evicted: Int { seen.withLock { $0.evicted } }

    /// The evictions since the last call (for a counter: each is counted once, whatever requests run at once).
    public func takeEvictions() -> Int {
        seen.withLock { memory in
            defer { memory.uncounted = 0 }
            return memory.uncounted
        }
    }

    /// How many deliveries are remembered now.
    public var remembered: Int { seen.withLock { $0.order.count } }

    /// Processes `payload` against `engine`'s rules, hinting `service` for every accepted alert.
    public func receive(_ payload: AlertmanagerPayload, engine: Engine, now: Date, hint: (IncidentKey, String) -> Void) -> [Outcome] {
        let age = Double(memory.components.seconds)
        return payload.alerts.map { alert in
            guard alert.status == "firing" else { return .resolved }
            let name = alert.labels["healer_rule"] ?? alert.labels["alertname"] ?? ""
            guard let rule = engine.rule(named: name), let pool = engine.configuration.pools[rule.pool] else { return .unknownRule }
            guard let server = pool.server(for: Labels(alert.labels)), TargetID.isValidServerName(server) else { return .unknownTarget }
            // A pool of servers lists them; a pool of pods has whichever pods its selector picks now.
            if pool.selector == nil, !pool.servers.contains(server), !pool.spares.contains(server) { return .unknownTarget }
            let identity = "\(alert.fingerprint ?? alert.labels.sorted { $0.key < $1.key }.description)@\(alert.startsAt)".hashValue
            let fresh = seen.withLock { seen in
                seen.forget(olderThan: age, keeping: capacity, now: now)
                if let time = seen.times[identity], now.timeIntervalSince(time) < age { return false }
                seen.times[identity] = now
                seen.order.append((identity, now))
                seen.forget(olderThan: age, keeping: capacity, now: now)
                return true
            }
            guard fresh else { return .duplicate }
            hint(IncidentKey(rule: rule.name, target: TargetID(pool: pool.name, server: server)), alert.labels["alertname"] ?? name)
            return .accepted
        }
    }
}
