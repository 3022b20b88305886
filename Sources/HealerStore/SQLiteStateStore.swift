import Dispatch
import Foundation
import GRDB
public import HealerCore

#if canImport(Glibc)
    import Glibc
#endif

/// The engine's state in a SQLite database (GRDB): one row holding the versioned `EngineState` as JSON,
/// replaced in a transaction by every save, with the pass's decision records appended in the same transaction.
///
/// The reconcile loop saves the state of a pass *before* it acts on it, so a controller killed mid-action
/// restarts knowing what it did (which servers it drained, which incidents are open, the budgets and token
/// buckets), and re-asserts it instead of leaving a server drained by accident. All database work runs on
/// GRDB's own serial queue, never on Swift's cooperative pool.
public final class SQLiteStateStore: StateStore {
    /// The database file.
    public let path: String
    /// How many decisions are kept (the oldest go first).
    public let decisionCapacity: Int
    private let database: DatabaseQueue
    /// The file opened: its device and inode, to tell when `path` no longer names it.
    private let identity: FileIdentity

    private init(path: String, database: DatabaseQueue, decisionCapacity: Int, identity: FileIdentity) {
        self.path = path
        self.database = database
        self.decisionCapacity = decisionCapacity
        self.identity = identity
    }

    /// A file's device and inode.
    struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64

        /// The identity of the file `path` names now, or `nil` when it names none.
        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// Throws when `path` no longer names the file this store opened: removed or replaced while Healer ran.
    /// Writing on would go to a file nobody can open again — a restart would forget every remedy in force — and
    /// a second Healer could start on the path beside this one. Such a save fails, so the pass does nothing.
    private func checkIdentity() throws {
        guard FileIdentity(path: path) != identity else { return }
        let what = FileIdentity(path: path) == nil ? "was removed" : "was replaced by another file"
        throw StateStoreError(
            path: path,
            problem: .lost(
                "the state file \(what) while Healer ran: nothing is done, nothing re-asserted, until Healer restarts on it (a "
                    + "restart reads the new file; restore the old one first if it holds remedies in force)"))
    }

    /// Opens (or creates, with its directory) the database at `path` and brings its schema up to date.
    ///
    /// - Throws: ``StateStoreError`` naming the file: it cannot be created, or is not a Healer state database.
    /// - Parameter lockTimeout: how long to wait for another Healer to let go of the file before giving up.
    public static func open(
        path: String, decisionCapacity: Int = 100_000, lockTimeout: Double = 5
    ) async throws(StateStoreError) -> SQLiteStateStore {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                // Opening and migrating are blocking calls: run them off the cooperative pool.
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try openBlocking(path: path, decisionCapacity: decisionCapacity, lockTimeout: lockTimeout) })
                }
            }
        } catch let error as StateStoreError {
            throw error
        } catch {
            throw StateStoreError(path: path, problem: .unreadable(Self.describe(error)))
        }
    }

    private static func openBlocking(path: String, decisionCapacity: Int, lockTimeout: Double) throws -> SQLiteStateStore {
        // The state names every server and what was done to it: a directory Healer creates is its own (0700), and
        // so is a file it creates (0600; SQLite gives its journal the same mode). Existing ones are left as they are.
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw StateStoreError(path: path, problem: .unreadable("cannot create the directory \(directory): \(error.localizedDescription)"))
            }
        }
        // Created in place (O_EXCL), never by a rename: two Healers starting at once must open the same file, so
        // that SQLite's lock lets only one of them run.
        let created = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if created >= 0 {
            Glibc.close(created)
        } else if errno != EEXIST {
            throw StateStoreError(path: path, problem: .unreadable("cannot create the file: \(String(cString: strerror(errno)))"))
        }
        var configuration = Configuration()
        configuration.label = "healer-state"
        configuration.busyMode = .timeout(lockTimeout)
        // One Healer per state file: the first write takes SQLite's lock and keeps it until the store closes,
        // so a second Healer on the same file (a copy started by mistake, a `run --once` beside the daemon)
        // stops at start instead of acting on a state it does not own.
        // The lock is taken at once, before anything is read: two Healers that both read first would each wait for
        // the other to let go, and neither would run.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT") }
        let database: DatabaseQueue
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            throw StateStoreError(path: path, problem: .inUse)
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: engine state") { db in
            try db.execute(
                sql: """
                    CREATE TABLE engine_state (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        format INTEGER NOT NULL,
                        saved_at REAL NOT NULL,
                        body BLOB NOT NULL
                    )
                    """)
        }
        migrator.registerMigration("v2: decisions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE decisions (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        time REAL NOT NULL,
                        body BLOB NOT NULL
                    )
                    """)
        }
        do {
            try migrator.migrate(database)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            throw StateStoreError(path: path, problem: .inUse)
        }
        // Taken once the migration has written, so with SQLite's lock held: the file this store owns.
        guard let identity = FileIdentity(path: path) else {
            throw StateStoreError(path: path, problem: .unreadable("the file vanished while it was opened"))
        }
        return SQLiteStateStore(path: path, database: database, decisionCapacity: decisionCapacity, identity: identity)
    }

    /// Closes the database and lets go of the file (another Healer may then open it). The store cannot be used
    /// afterwards.
    public func close() async {
        let database = self.database
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                try? database.close()
                continuation.resume()
            }
        }
    }

    /// The saved state, or `nil` when nothing was saved yet.
    ///
    /// - Throws: ``StateStoreError`` when the state was written by a newer Healer or cannot be read: starting
    ///   afresh would forget what Healer did (servers it drained), so that is for an operator to decide.
    public func load() async throws -> EngineState? {
        let path = self.path
        let row: (format: Int, body: Data)?
        do {
            row = try await database.read { db in
                try Row.fetchOne(db, sql: "SELECT format, body FROM engine_state WHERE id = 1").map { ($0["format"], $0["body"]) }
            }
        } catch {
            throw StateStoreError(path: path, problem: .unreadable(Self.describe(error)))
        }
        guard let row else { return nil }
        guard row.format <= EngineState.currentVersion else {
            throw StateStoreError(path: path, problem: .newerFormat(found: row.format, supported: EngineState.currentVersion))
        }
        do {
            return try HealerJSON.decoder(unixDates: false).decode(EngineState.self, from: row.body)
        } catch {
            throw StateStoreError(path: path, problem: .unreadable("the saved state does not decode: \(error)"))
        }
    }

    /// Replaces the saved state with `state`, durably (the transaction is committed when this returns).
    public func save(_ state: EngineState) async throws {
        try await save(state, appending: [])
    }

    /// Replaces the saved state with `state` and adds `records` to the saved decisions, in one transaction.
    /// The oldest decisions beyond ``decisionCapacity`` are dropped.
    public func save(_ state: EngineState, appending records: [DecisionRecord]) async throws {
        let body: Data
        let recordBodies: [(Double, Data)]
        do {
            let encoder = HealerJSON.encoder(unixDates: false)
            body = try encoder.encode(state)
            recordBodies = try records.map { ($0.time.timeIntervalSince1970, try encoder.encode($0)) }
        } catch {
            throw StateStoreError(path: path, problem: .unwritable("the state does not encode: \(error)"))
        }
        try checkIdentity()
        let capacity = decisionCapacity
        do {
            try await database.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO engine_state (id, format, saved_at, body) VALUES (1, ?, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET format = excluded.format, saved_at = excluded.saved_at, body = excluded.body
                        """,
                    arguments: [state.version, Date().timeIntervalSince1970, body])
                for (time, record) in recordBodies {
                    try db.execute(sql: "INSERT INTO decisions (time, body) VALUES (?, ?)", arguments: [time, record])
                }
                if !recordBodies.isEmpty {
                    try db.execute(sql: "DELETE FROM decisions WHERE id <= (SELECT max(id) FROM decisions) - ?", arguments: [capacity])
                }
            }
        } catch {
            throw StateStoreError(path: path, problem: .unwritable(Self.describe(error)))
        }
    }

    /// The most recent saved decisions, oldest first, at most `limit`.
    public func recentRecords(limit: Int) async throws -> [DecisionRecord] {
        let path = self.path
        let bodies: [Data]
        do {
            bodies = try await database.read { db in
                try Data.fetchAll(db, sql: "SELECT body FROM decisions ORDER BY id DESC LIMIT ?", arguments: [limit])
            }
        } catch {
            throw StateStoreError(path: path, problem: .unreadable(Self.describe(error)))
        }
        let decoder = HealerJSON.decoder(unixDates: false)
        // A record this version cannot read (written by a newer one) is history, not state: it is skipped.
        return bodies.reversed().compactMap { try? decoder.decode(DecisionRecord.self, from: $0) }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? error.description }
        return String(describing: error)
    }
}

/// A state database that cannot be used, with the file and what to do.
public struct StateStoreError: StateStoreFailure, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Problem: Sendable, Equatable {
        /// The file cannot be opened or read, or is not a Healer state database.
        case unreadable(String)
        /// The state cannot be written.
        case unwritable(String)
        /// The path no longer names the file this Healer opened: removed or replaced while it ran.
        case lost(String)
        /// A newer Healer wrote it, in a format this one does not know.
        case newerFormat(found: Int, supported: Int)
        /// Another Healer holds it.
        case inUse
    }

    /// The database file.
    public var path: String
    /// What is wrong.
    public var problem: Problem

    /// Whether the file is lost (``Problem/lost(_:)``).
    public var meansStateLost: Bool {
        if case .lost = problem { true } else { false }
    }

    public var description: String {
        switch problem {
        case .unreadable(let detail):
            "state file \(path) cannot be read: \(detail). Healer keeps what it did there (drained servers, open incidents); "
                + "fix or restore the file, or move it aside to start with no memory of past remedies"
        case .unwritable(let detail):
            "state file \(path) cannot be written: \(detail)"
        case .lost(let detail):
            "state file \(path): \(detail)"
        case .inUse:
            "state file \(path) is in use by another Healer: only one may run on a state file (stop the other, "
                + "or give this one its own state.path)"
        case .newerFormat(let found, let supported):
            "state file \(path) was written by a newer Healer (format \(found); this one reads up to \(supported)): "
                + "run the newer version, or move the file aside to start with no memory of past remedies"
        }
    }
}
