import Foundation
public import HealerCore
public import HealerKubernetes

/// The engine's state in a ConfigMap that the replicas of one Healer share (HA): the leader writes it, every
/// replica reads it.
///
/// A ConfigMap, not a custom resource: it needs no CRD installed before Healer starts (one object less to keep in
/// step with the binary's version), RBAC for it is ordinary, and `kubectl get configmap healer-state -o yaml`
/// shows what the leader believes. Its limit (1 MiB of data) bounds the state: the recent decisions are trimmed
/// to fit, and a state that alone does not fit is refused with a clear error (about 3,000 open incidents).
///
/// Data keys: `format` (the state's format), `epoch` and `holder` (the term that last fenced it), `state.json`
/// (the `EngineState`, as the SQLite store keeps it) and `decisions.jsonl` (the recent decisions, one JSON object a line, oldest first).
///
/// **Fencing.** A new leader first writes its term (``takeOver(_:)``) with the `resourceVersion` it read; every
/// later save names the version of its own last write. A deposed leader's save therefore fails with 409 Conflict
/// as soon as the new leader has fenced, even if it has saved nothing else yet; the store then reads the object
/// again and, finding a later term, refuses the save as ``SharedStateError/fenced(by:)``.
public actor ConfigMapStateStore: SharedStateStore {
    /// Where the object is.
    public let name: String
    public let namespace: String
    /// How many decisions are kept at most (fewer when they do not fit).
    public let decisionCapacity: Int
    /// The data budget: the API server's 1 MiB less room for metadata.
    public let maxDataBytes: Int
    private let client: KubernetesClient
    /// The object as this replica last wrote or read it while fenced.
    private var written: ConfigMap?
    /// The term this replica fenced the object with; `nil` until it takes over (a follower never writes).
    private var fence: LeaderTerm?
    private var decisions: [DecisionRecord] = []
    /// The leader's API address as the object last read showed it.
    public private(set) var leaderURL: String?

    /// A store on ConfigMap `name` of `namespace`.
    public init(
        client: KubernetesClient, name: String, namespace: String, decisionCapacity: Int = 500, maxDataBytes: Int = ConfigMap.maxDataBytes - 16_384
    ) {
        self.client = client
        self.name = name
        self.namespace = namespace
        self.decisionCapacity = decisionCapacity
        self.maxDataBytes = maxDataBytes
    }

    /// The keys that name a term: `epoch`, `holder`, and `leader-url` when it has one.
    static func termData(_ term: LeaderTerm) -> [String: String] {
        var data = ["epoch": String(term.epoch), "holder": term.holder]
        data["leader-url"] = term.url
        return data
    }

    /// The term that last fenced the object, as written in it; `nil` when none has.
    public static func term(of map: ConfigMap) -> LeaderTerm? {
        guard let data = map.data, let epoch = data["epoch"].flatMap({ Int($0) }), let holder = data["holder"] else { return nil }
        return LeaderTerm(epoch: epoch, holder: holder, url: data["leader-url"])
    }

    /// The epoch a new Lease must start at so that its terms come after every term that fenced the object: one
    /// above the stored epoch (0 when none).
    public func nextEpoch() async throws -> Int {
        guard let map = try await read(), let term = Self.term(of: map) else { return 0 }
        return term.epoch + 1
    }

    public func load() async throws -> EngineState? {
        guard let map = try await read() else { return nil }
        return try decodeState(map)
    }

    public func recentRecords(limit: Int) async throws -> [DecisionRecord] {
        guard let map = try await read() else { return [] }
        return Array(decodeDecisions(map).suffix(limit))
    }

    public func takeOver(_ term: LeaderTerm) async throws -> EngineState? {
        fence = nil
        for _ in 1...5 {
            guard var map = try await read() else {
                var created = ConfigMap(
                    metadata: .init(name: name, namespace: namespace, labels: ["app.kubernetes.io/name": "healer"]),
                    data: Self.termData(term).merging(["format": String(EngineState.currentVersion)]) { $1 })
                do {
                    created = try await client.createConfigMap(created)
                } catch  where error.code == 409 {
                    continue  // another replica created it first: read it
                } catch {
                    throw SharedStateError.unreachable(name: name, error)
                }
                (written, fence, decisions) = (created, term, [])
                return nil
            }
            if let stored = Self.term(of: map), stored.epoch > term.epoch || (stored.epoch == term.epoch && stored.holder != term.holder) {
                throw SharedStateError.fenced(name: name, by: stored)
            }
            let state = try decodeState(map)
            let records = decodeDecisions(map)
            map.data = (map.data ?? [:]).filter { $0.key != "leader-url" }.merging(Self.termData(term)) { $1 }
            do {
                written = try await client.updateConfigMap(map)
            } catch  where error.code == 409 {
                continue  // written since it was read (a deposed leader's last save): read it again
            } catch {
                throw SharedStateError.unreachable(name: name, error)
            }
            (fence, decisions) = (term, records)
            return state
        }
        throw SharedStateError.contended(name: name)
    }

    public func save(_ state: EngineState) async throws {
        try await save(state, appending: [])
    }

    public func save(_ state: EngineState, appending records: [DecisionRecord]) async throws {
        guard let term = fence, var map = written else { throw SharedStateError.notFenced(name: name) }
        var kept = Array((decisions + records).suffix(decisionCapacity))
        map.data = try encode(state, term: term, decisions: &kept)
        for attempt in 1...2 {
            do {
                written = try await client.updateConfigMap(map)
                decisions = kept
                return
            } catch  where error.code == 409 {
                // Another write came first: a later term's fence, or this replica's own last write whose answer was lost.
                // Anything but "the object still names this term" (read again, or a second conflict) means deposed.
                let current = try? await read()
                guard attempt == 1, let current, Self.term(of: current) == term else {
                    fence = nil
                    throw SharedStateError.fenced(name: name, by: current.flatMap { Self.term(of: $0) })
                }
                map.metadata.resourceVersion = current.metadata.resourceVersion
            } catch  where error.code == 404 {
                break
            } catch {
                throw SharedStateError.unreachable(name: name, error)
            }
        }
        fence = nil
        throw SharedStateError.deleted(name: name)
    }

    /// The object, or `nil` when there is none.
    private func read() async throws(SharedStateError) -> ConfigMap? {
        do {
            let map = try await client.configMap(name, namespace: namespace)
            leaderURL = map.data?["leader-url"]
            return map
        } catch  where error.code == 404 {
            return nil
        } catch {
            throw .unreachable(name: name, error)
        }
    }

    private func decodeState(_ map: ConfigMap) throws(SharedStateError) -> EngineState? {
        guard let text = map.data?["state.json"] else { return nil }
        let format = map.data?["format"].flatMap { Int($0) } ?? EngineState.currentVersion
        guard format <= EngineState.currentVersion else {
            throw .unreadable(name: name, "written by a newer Healer (format \(format); this one reads up to \(EngineState.currentVersion))")
        }
        do {
            return try HealerJSON.decoder(unixDates: false).decode(EngineState.self, from: Data(text.utf8))
        } catch {
            throw .unreadable(name: name, "state.json does not decode: \(error)")
        }
    }

    /// The decisions kept; ones this version cannot read (written by a newer one) are history, and skipped.
    private func decodeDecisions(_ map: ConfigMap) -> [DecisionRecord] {
        guard let text = map.data?["decisions.jsonl"] else { return [] }
        let decoder = HealerJSON.decoder(unixDates: false)
        return text.split(separator: "\n").compactMap { try? decoder.decode(DecisionRecord.self, from: Data($0.utf8)) }
    }

    /// The data of a save; the oldest decisions are dropped until everything fits.
    private func encode(_ state: EngineState, term: LeaderTerm, decisions: inout [DecisionRecord]) throws(SharedStateError) -> [String: String] {
        let encoder = HealerJSON.encoder(unixDates: false)
        let stateText: String
        var decisionTexts: [String]
        do {
            stateText = String(decoding: try encoder.encode(state), as: UTF8.self)
            decisionTexts = try decisions.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        } catch {
            throw .unreadable(name: name, "the state does not encode: \(error)")
        }
        var data = Self.termData(term).merging(["format": String(state.version), "state.json": stateText, "decisions.jsonl": ""]) { $1 }
        let fixed = ConfigMap(metadata: .init(name: name, namespace: namespace), data: data).dataBytes
        guard fixed <= maxDataBytes else { throw .tooLarge(name: name, bytes: fixed, limit: maxDataBytes) }
        var size = decisionTexts.reduce(0) { $0 + $1.utf8.count + 1 }
        var dropped = 0
        while fixed + size > maxDataBytes, dropped < decisionTexts.count {
            size -= decisionTexts[dropped].utf8.count + 1
            dropped += 1
        }
        decisionTexts.removeFirst(dropped)
        decisions.removeFirst(dropped)
        data["decisions.jsonl"] = decisionTexts.joined(separator: "\n")
        return data
    }
}
