import Foundation
public import HealerCore
import HealerKubernetes
import Logging

/// Writes each action and suppression on a pod as an `events.k8s.io/v1` Event, so that `kubectl describe pod` and
/// `kubectl get events` show why Healer acted. Rate-limited (a burst of 25, then one every 2 s; the same event on
/// the same pod at most once in 10 minutes) and best effort: a failed write is counted and logged when its reason
/// changes, never retried, and never holds back a remedy.
public actor PodEvents {
    /// The `reportingController` of every event.
    public static let controller = "healer.dev/healer"

    private let instance: String
    private let logger = Logger(label: "healer.kubernetes.events")
    private var tokens = 25.0
    private var refilledAt = ContinuousClock.now
    private var recent: [String: ContinuousClock.Instant] = [:]
    /// Events not written: dropped by the rate limit, or refused by the API.
    public private(set) var dropped = 0
    /// The last write failure, for logs and status.
    public private(set) var lastFailure: String?

    /// Events reported by `instance` (the host name, the pod's name in a cluster, by default).
    public init(instance: String? = nil) {
        self.instance = String((instance ?? ProcessInfo.processInfo.hostName).prefix(128))
    }

    /// Writes the events of `records` about pods of `cluster`.
    public func post(_ records: [DecisionRecord], cluster: KubernetesClusters.Cluster) async {
        guard let client = cluster.client else { return }
        for record in records where record.kind == .action || record.kind == .suppressed {
            guard let server = record.server, let pod = cluster.pod(TargetID(pool: record.pool, server: server)) else { continue }
            let event = Self.event(for: record, pod: pod, instance: instance)
            let key = "\(pod.metadata.uid)|\(event.reason)|\(event.note)"
            let now = ContinuousClock.now
            recent = recent.filter { now - $0.value < .seconds(600) }
            guard recent[key] == nil else { continue }
            let elapsed = now - refilledAt
            tokens = min(25, tokens + (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / 2)
            refilledAt = now
            guard tokens >= 1 else {
                dropped += 1
                continue
            }
            tokens -= 1
            recent[key] = now
            do throws(KubernetesError) {
                _ = try await client.create(event, path: "/apis/events.k8s.io/v1/namespaces/\(event.metadata.namespace)/events")
            } catch {
                dropped += 1
                if lastFailure != "\(error)" {
                    logger.warning("cannot write a Kubernetes Event (remedies go on)", metadata: ["pod": "\(server)", "error": "\(error)"])
                }
                lastFailure = "\(error)"
            }
        }
    }

    /// An `events.k8s.io/v1` Event.
    struct Event: Encodable {
        struct Metadata: Encodable {
            var name: String
            var namespace: String
        }
        struct Reference: Encodable {
            var apiVersion = "v1"
            var kind = "Pod"
            var name: String
            var namespace: String
            var uid: String
        }
        var apiVersion = "events.k8s.io/v1"
        var kind = "Event"
        var metadata: Metadata
        var eventTime: String
        var reportingController = PodEvents.controller
        var reportingInstance: String
        var action: String
        var reason: String
        var regarding: Reference
        var note: String
        var type: String
    }

    /// The event of one decision: reason and action named after the decision (`Drain`, `Restart`, `Restore`,
    /// `HeldBack`), the record's sentence as its note.
    static func event(for record: DecisionRecord, pod: Pod, instance: String) -> Event {
        let now = record.time
        let action = upperCamel(record.actionType?.name ?? "decide")
        let remedy: Bool = {
            switch record.actionType {
            case .restore?, .scaleOut?: return false
            default: return true
            }
        }()
        let namespace = pod.metadata.namespace ?? "default"
        return Event(
            metadata: .init(name: "\(pod.metadata.name).\(String(UInt64(now.timeIntervalSince1970 * 1e9), radix: 16))", namespace: namespace),
            eventTime: KubernetesTime.micro(now),
            reportingInstance: instance, action: action, reason: record.kind == .suppressed ? "HeldBack" : action,
            regarding: .init(name: pod.metadata.name, namespace: namespace, uid: pod.metadata.uid), note: Self.prefix(record.reason, bytes: 1024),
            type: record.kind == .suppressed || remedy ? "Warning" : "Normal")
    }

    /// The longest prefix of `text` of at most `bytes` UTF-8 bytes (the API's limit on a note).
    static func prefix(_ text: String, bytes: Int) -> String {
        var result = ""
        var used = 0
        for character in text {
            used += character.utf8.count
            guard used <= bytes else { break }
            result.append(character)
        }
        return result
    }

    /// `set_weight` → `SetWeight`.
    static func upperCamel(_ name: String) -> String {
        name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
