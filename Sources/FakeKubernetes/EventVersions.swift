import Foundation

/// The two versions of an Event: core `v1` (how it is stored and how `kubectl describe` reads it) and
/// `events.k8s.io/v1` (how controllers are meant to write it). Field by field as the API server converts them.
enum EventVersions {
    /// events.k8s.io/v1 field ← core v1 field.
    private static let renames: [(String, String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ]

    /// The API server's validation of a new `events.k8s.io/v1` Event (what client-go's recorder always sets).
    static func validate(_ event: JSONValue) throws(FakeAPIError) {
        var problems: [String] = []
        let micro = #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$"#
        if event["eventTime"]?.string.map({ $0.range(of: micro, options: .regularExpression) == nil }) ?? true {
            problems.append("eventTime: Required value (a MicroTime, 6 fractional digits)")
        }
        for field in ["reportingController", "reportingInstance", "action", "reason"] where (event[field]?.string ?? "").isEmpty {
            problems.append("\(field): Required value")
        }
        if !["Normal", "Warning"].contains(event["type"]?.string ?? "") { problems.append("type: Unsupported value: must be Normal or Warning") }
        if (event["note"]?.string?.utf8.count ?? 0) > 1024 { problems.append("note: Too long: may not be longer than 1024") }
        if (event["reason"]?.string?.count ?? 0) > 128 { problems.append("reason: Too long: may not be longer than 128") }
        if event["regarding"] == nil { problems.append("regarding: Required value") }
        if !problems.isEmpty { throw .invalid("Event is invalid: " + problems.joined(separator: ", ")) }
    }

    static func toEventsV1(_ core: JSONValue) -> JSONValue {
        var event = core
        for (new, old) in renames {
            event[new] = core[old]
            event[old] = nil
        }
        event["apiVersion"] = "events.k8s.io/v1"
        return event
    }

    static func toCoreV1(_ eventsV1: JSONValue) -> JSONValue {
        var event = eventsV1
        for (new, old) in renames {
            event[old] = eventsV1[new]
            event[new] = nil
        }
        event["apiVersion"] = "v1"
        return event
    }
}
