import Foundation
import GRDB
import HealerCore
import HealerStore
import HealerTesting
import Testing

@Suite("State in SQLite")
struct SQLiteStateStoreTests {
    static func state() -> EngineState {
        var state = EngineState(maxActionsPerMinute: 4)
        let key = IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "s1"))
        var incident = Incident(key: key, openedAt: Date(timeIntervalSince1970: 1_000), dryRun: false)
        var remedy = Incident.Remedy(firedAt: Date(timeIntervalSince1970: 1_004))
        remedy.appliedStep = 1
        incident.stage = .firing(remedy)
        state.incidents[key] = incident
        state.attempts[key] = [Date(timeIntervalSince1970: 1_010)]
        state.pause = PauseState(pools: ["db"])
        return state
    }

    @Test func aSavedStateIsReadBackByANewStoreInANewDirectory() async throws {
        try await TemporaryDirectory.with(prefix: "store") { directory in
            let path = directory.path + "/nested/state.db"
            let first = try await SQLiteStateStore.open(path: path)
            #expect(try await first.load() == nil)
            try await first.save(Self.state())
            var changed = Self.state()
            changed.pause.global = true
            try await first.save(changed)  // replaces, never appends
            await first.close()  // as a Healer that stopped

            let second = try await SQLiteStateStore.open(path: path)
            #expect(try await second.load() == changed)
        }
    }

    /// Every value Prometheus can return survives the state and the journal: `x / 0` is `+Inf`, and a state that
    /// cannot be saved makes every pass do nothing.
    @Test(arguments: [Double.infinity, -Double.infinity, Double.nan, Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude, -0.0])
    func everyValuePrometheusCanReturnIsSavedAndReadBack(value: Double) async throws {
        try await TemporaryDirectory.with(prefix: "store") { directory in
            let store = try await SQLiteStateStore.open(path: directory.path + "/state.db")
            var state = Self.state()
            let key = IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "s1"))
            state.incidents[key]?.lastValue = value
            let record = DecisionRecord(time: Date(timeIntervalSince1970: 1_020), kind: .transition, pool: "web", value: value, because: .noData)
            try await store.save(state, appending: [record])
            let loaded = try #require(try await store.load()?.incidents[key]?.lastValue)
            let recorded = try #require(try await store.recentRecords(limit: 10).last?.value)
            for read in [loaded, recorded] {
                #expect(read.isNaN ? value.isNaN : read == value && read.sign == value.sign, "\(value) read back as \(read)")
            }
        }
    }

    /// The state names every server and what was done to it: only Healer's user may read it.
    @Test func aNewStateIsReadableByItsOwnerOnly() async throws {
        try await TemporaryDirectory.with(prefix: "store") { directory in
            let path = directory.path + "/nested/state.db"
            let store = try await SQLiteStateStore.open(path: path)
            try await store.save(Self.state())
            let mode = { (path: String) in (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int).map { $0 & 0o777 } }
            #expect(try mode(directory.path + "/nested") == 0o700)
            #expect(try mode(path) == 0o600)
        }
    }

    /// A state file removed or replaced while Healer runs is noticed at the next save, which fails: writing on
    /// would go to a file a restart cannot read, and a second Healer could start on the path.
    @Test(arguments: [false, true])
    func aStateFileRemovedOrReplacedWhileRunningFailsTheNextSave(replaced: Bool) async throws {
        try await TemporaryDirectory.with(prefix: "store") { directory in
            let path = directory.path + "/state.db"
            let store = try await SQLiteStateStore.open(path: path)
            try await store.save(Self.state())
            try FileManager.default.removeItem(atPath: path)
            if replaced { _ = FileManager.default.createFile(atPath: path, contents: Data()) }
            var failure: StateStoreError?
            do {
                try await store.save(Self.state())
            } catch let error as StateStoreError {
                failure = error
            }
            guard case .lost(let detail)? = failure?.problem else {
                Issue.record("the save did not fail: \(String(describing: failure))")
                return
            }
            #expect(detail.contains(replaced ? "replaced" : "removed"))
            #expect(failure?.path == path)
        }
    }

    /// Two Healers starting at once on a path with no file yet: one runs, the other is told the file is in use.
    @Test func twoHealersOpeningANewFileAtOnceCannotBothRun() async throws {
        try await TemporaryDirectory.with(prefix: "store") { directory in
            let path = directory.path + "/state.db"
            @Sendable func open() async -> Result<SQLiteStateStore, StateStoreError> {
                do {
                    return .success(try await SQLiteStateStore.open(path: path, lockTimeout: 1))
                } catch {
                    return .failure(error)
                }
            }
            async let first = open()
            async let second = open()
            let results = await [first, second]
            let opened = results.compactMap { try? $0.get() }
            #expect(opened.count == 1, "\(results)")
            #expect(results.contains { if case .failure(let error) = $0 { error.problem == .inUse } else { false } })
            for store in opened { await store.close() }
        }
    }

    @Test func aStateFromANewerHealerIsRefusedWithTheFileNamed() async throws {
        try await TemporaryDirectory.with(prefix: "store") { directory in
            let path = directory.path + "/state.db"
            let store = try await SQLiteStateStore.open(path: path)
            var newer = Self.state()
            newer.version = EngineState.currentVersion + 1
            try await store.save(newer)
            let error = await #expect(throws: StateStoreError.self) { try await store.load() }
            #expect(error?.problem == .newerFormat(found: EngineState.currentVersion + 1, supported: EngineState.currentVersion))
            #expect(error?.description.contains(path) == true)
            #expect(error?.description.contains("move the file aside") == true)
        }
    }

    @Test func aFileThatIsNotAStateDatabaseIsRefused() async throws {
        try await TemporaryDirectory.with(prefix: "store") { directory in
            let path = directory.path + "/state.db"
            try Data(String(repeating: "not sqlite ", count: 100).utf8).write(to: URL(fileURLWithPath: path))
            let error = await #expect(throws: StateStoreError.self) { try await SQLiteStateStore.open(path: path) }
            #expect(error?.description.contains(path) == true)
            guard case .unreadable? = error?.problem else { Issue.record("expected unreadable, got \(String(describing: error))"); return }
        }
    }

    @Test func aStateThatDoesNotDecodeIsRefused() async throws {
        try await TemporaryDirectory.with(prefix: "store") { directory in
            let path = directory.path + "/state.db"
            let store = try await SQLiteStateStore.open(path: path)
            try await store.save(Self.state())
            await store.close()
            // Damage the saved body while no Healer runs.
            let database = try DatabaseQueue(path: path)
            try await database.write { db in try db.execute(sql: "UPDATE engine_state SET body = ?", arguments: [Data("{}".utf8)]) }
            try database.close()
            let reopened = try await SQLiteStateStore.open(path: path)
            let error = await #expect(throws: StateStoreError.self) { try await reopened.load() }
            guard case .unreadable(let detail)? = error?.problem else { Issue.record("expected unreadable"); return }
            #expect(detail.contains("does not decode"))
        }
    }

    @Test func decisionsAreSavedWithTheStateAndTheOldestDropped() async throws {
        try await TemporaryDirectory.with(prefix: "store") { directory in
            let path = directory.path + "/state.db"
            let store = try await SQLiteStateStore.open(path: path, decisionCapacity: 3)
            let records = (0..<5).map { index in
                DecisionRecord(
                    time: Date(timeIntervalSince1970: Double(1_000 + index)), kind: .pool, pool: "web", because: .ruleAnswers(rule: "rule\(index)"))
            }
            try await store.save(Self.state(), appending: Array(records[0..<2]))
            try await store.save(Self.state(), appending: Array(records[2...]))
            await store.close()
            let reopened = try await SQLiteStateStore.open(path: path, decisionCapacity: 3)
            #expect(try await reopened.recentRecords(limit: 10) == Array(records[2...]))
            #expect(try await reopened.recentRecords(limit: 2) == Array(records[3...]))
            #expect(try await reopened.load() == Self.state())
        }
    }

    @Test func aSecondHealerOnTheSameFileStopsAtStart() async throws {
        try await TemporaryDirectory.with(prefix: "store") { directory in
            let path = directory.path + "/state.db"
            let first = try await SQLiteStateStore.open(path: path)
            try await first.save(Self.state())
            let error = await #expect(throws: StateStoreError.self) { try await SQLiteStateStore.open(path: path, lockTimeout: 0.2) }
            #expect(error?.problem == .inUse)
            #expect(error?.description.contains("in use by another Healer") == true)
            #expect(try await first.load() == Self.state())  // the first one carries on
        }
    }
}
