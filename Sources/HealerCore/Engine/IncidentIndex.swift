/// Which open incidents each target has, and which servers of each pool are in flight, kept in step with the
/// state's incidents as a pass changes them (``Pass/store(_:at:)``).
///
/// The capacity-floor and in-flight gates ask for one target's combined remedy and for a pool's servers in flight
/// every time they judge a change; scanning every incident for that made a pass over a 10k-server pool with 2,000
/// firing incidents take over a second (docs/scale.md). With the index each question costs the target's own
/// incidents.
struct IncidentIndex {
    /// Each target's first incident key, and the others of targets with several (most have one: no array).
    private var firstKey: [TargetID: IncidentKey] = [:]
    private var moreKeys: [TargetID: [IncidentKey]] = [:]
    /// Per pool: the servers under remediation (an incident firing with a remedy applied).
    private(set) var inFlight: [String: Set<TargetID>] = [:]

    /// The index of `incidents`.
    init(_ incidents: [IncidentKey: Incident]) {
        firstKey.reserveCapacity(incidents.count)
        for (key, incident) in incidents {
            add(key)
            if incident.isInFlight { inFlight[key.target.pool, default: []].insert(key.target) }
        }
    }

    /// The targets with an open incident.
    var targets: Dictionary<TargetID, IncidentKey>.Keys { firstKey.keys }

    /// Calls `body` with the key of each of `target`'s open incidents.
    func forEachKey(of target: TargetID, _ body: (IncidentKey) -> Void) {
        guard let first = firstKey[target] else { return }
        body(first)
        moreKeys[target]?.forEach(body)
    }

    /// Brings the entries of `key`'s target up to date after its incident became `incident` in `incidents`.
    mutating func update(_ key: IncidentKey, to incident: Incident?, in incidents: [IncidentKey: Incident]) {
        let target = key.target
        if incident == nil { remove(key) } else { add(key) }
        var flying = false
        forEachKey(of: target) { other in
            if other == key ? incident?.isInFlight == true : incidents[other]?.isInFlight == true { flying = true }
        }
        // Looked up before being changed: a change through the subscript costs an allocation even when it changes nothing.
        let wasFlying = inFlight[target.pool]?.contains(target) == true
        if flying, !wasFlying {
            inFlight[target.pool, default: []].insert(target)
        } else if !flying, wasFlying {
            inFlight[target.pool]?.remove(target)
            if inFlight[target.pool]?.isEmpty == true { inFlight[target.pool] = nil }
        }
    }

    private mutating func add(_ key: IncidentKey) {
        let target = key.target
        guard let first = firstKey[target] else {
            firstKey[target] = key
            return
        }
        guard first != key, moreKeys[target]?.contains(key) != true else { return }
        moreKeys[target, default: []].append(key)
    }

    private mutating func remove(_ key: IncidentKey) {
        let target = key.target
        if firstKey[target] == key {
            firstKey[target] = moreKeys[target]?.first
            moreKeys[target]?.removeFirst()
        } else {
            moreKeys[target]?.removeAll { $0 == key }
        }
        if moreKeys[target]?.isEmpty == true { moreKeys[target] = nil }
    }
}

extension Incident {
    /// Whether its server is in flight: firing, with a remedy applied.
    var isInFlight: Bool { phase == .firing && hasActed }
}
