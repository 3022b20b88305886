/// Which open incidents each target has, and which servers of each pool are in flight, kept in step with the
/// state's incidents as a pass changes them (``Pass/store(_:at:)``).
///
/// The capacity-floor and in-flight gates ask for one target's combined remedy and for a pool's servers in flight
/// every time they judge a change; scanning every incident for that made a pass over a 10k-server pool with 2,000
/// firing incidents take over a second (docs/scale.md). With the index each question costs the target's own
/// incidents.
struct IncidentIndex {
    /// The keys of each target's open incidents.
    private(set) var keysByTarget: [TargetID: [IncidentKey]] = [:]
    /// Per pool: the servers under remediation (an incident firing with a remedy applied).
    private(set) var inFlight: [String: Set<TargetID>] = [:]

    /// The index of `incidents`.
    init(_ incidents: [IncidentKey: Incident]) {
        for (key, incident) in incidents {
            keysByTarget[key.target, default: []].append(key)
            if incident.isInFlight { inFlight[key.target.pool, default: []].insert(key.target) }
        }
    }

    /// Brings the entries of `key`'s target up to date after its incident changed in `incidents`.
    mutating func update(_ key: IncidentKey, in incidents: [IncidentKey: Incident]) {
        let target = key.target
        var keys = keysByTarget[target] ?? []
        if incidents[key] == nil {
            keys.removeAll { $0 == key }
        } else if !keys.contains(key) {
            keys.append(key)
        }
        keysByTarget[target] = keys.isEmpty ? nil : keys
        if keys.contains(where: { incidents[$0]?.isInFlight == true }) {
            inFlight[target.pool, default: []].insert(target)
        } else if inFlight[target.pool]?.remove(target) != nil, inFlight[target.pool]?.isEmpty == true {
            inFlight[target.pool] = nil
        }
    }
}

extension Incident {
    /// Whether its server is in flight: firing, with a remedy applied.
    var isInFlight: Bool { phase == .firing && hasActed }
}
