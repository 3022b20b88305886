/// The two versions of an Event: core `v1` (how it is stored and how `kubectl describe` reads it) and
/// `events.k8s.io/v1` (how controllers are meant to write it). Field by field as the API server converts them.
enum EventVersions {
    /// events.k8s.io/v1 field ← core v1 field.
    private static let renames: [(String, String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ]

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
