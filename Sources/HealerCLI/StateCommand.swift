import ArgumentParser
import Foundation
import HealerController
import HealerCore
import HealerKubernetes
import HealerStore
import Logging

/// `healer state export|import`: the engine state and recent decisions as one JSON document, for backups and to
/// move between the SQLite store of a single instance and the shared ConfigMap of replicas (`ha:`).
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Export or import Healer's state (open incidents, budgets, pauses, recent decisions) as JSON.",
        discussion: """
            The store is the one the configuration names: the ConfigMap of ha: (state_config_map), else the SQLite file \
            state.path; --store picks one. To move a single instance to two replicas: `healer state export --store sqlite \
            -o state.json`, then `healer state import --store kubernetes -i state.json` before the replicas start.

            Import writes only into a store nobody is using: the SQLite file is locked by a running Healer; into the \
            ConfigMap, import takes the Lease as a leader would (refused while a replica holds it: scale the Deployment \
            to 0 first) and writes under its term. A store that already holds a state is replaced only with --replace.
            """,
        subcommands: [Export.self, Import.self])

    /// Which store to use.
    enum Store: String, ExpressibleByArgument, CaseIterable {
        case auto, sqlite, kubernetes
    }

    /// The document `export` writes and `import` reads.
    struct Document: Codable {
        var kind = "HealerState"
        var format: Int
        var exportedAt: String
        var source: String
        var state: EngineState
        var decisions: [DecisionRecord]
    }

    /// Runs `body`; an error other than an exit is printed as one line (it names its file or object) and exits 1.
    static func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Output.error("healer: \(error)")
            throw ExitCode.failure
        }
    }

    struct Options: ParsableArguments {
        @OptionGroup var config: ConfigOption

        @Option(help: ArgumentHelp("Which store: auto (the ConfigMap with ha:, else SQLite), sqlite or kubernetes.", valueName: "store"))
        var store: Store = .auto

        /// The store chosen, and its name for people.
        func resolve(_ configuration: HealerConfiguration) throws -> (kind: Store, name: String) {
            let kind: Store = store == .auto ? (configuration.ha == nil ? .sqlite : .kubernetes) : store
            switch kind {
            case .kubernetes:
                guard let ha = configuration.ha else {
                    Output.error("healer: \(config.path): --store kubernetes needs an ha: section (the Lease and the state's ConfigMap)")
                    throw ExitCode.failure
                }
                return (kind, "configmap/\(ha.stateConfigMap)")
            default:
                return (.sqlite, configuration.state.path)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the state and recent decisions as JSON (to standard output, or --output).")

        @OptionGroup var options: Options

        @Option(name: [.short, .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
        var output: String?

        func run() async throws {
            let started = ContinuousClock.now
            let configuration = try options.config.load()
            let (kind, name) = try options.resolve(configuration)
            let (state, decisions) = try await StateCommand.reportingErrors { () async throws -> (EngineState?, [DecisionRecord]) in
                if kind == .kubernetes, let ha = configuration.ha {
                    let store = try HAAccess(configuration: configuration, ha: ha).store
                    return (try await store.load(), try await store.recentRecords(limit: 100_000))
                }
                guard FileManager.default.fileExists(atPath: configuration.state.path) else {
                    Output.error("healer: no state file at \(configuration.state.path) (state.path of \(options.config.path))")
                    throw ExitCode.failure
                }
                let store = try await SQLiteStateStore.open(path: configuration.state.path)
                let read = (try await store.load(), try await store.recentRecords(limit: 100_000))
                await store.close()
                return read
            }
            guard let state else {
                Output.error("healer: \(name) holds no state yet: nothing to export")
                throw ExitCode.failure
            }
            let document = Document(
                format: state.version, exportedAt: KubernetesTime.seconds(Date()), source: name, state: state, decisions: decisions)
            let encoder = HealerJSON.encoder(unixDates: false)
            encoder.outputFormatting.insert(.prettyPrinted)
            let data = try encoder.encode(document)
            if let output {
                do {
                    try data.write(to: URL(fileURLWithPath: output), options: .atomic)
                } catch {
                    Output.error("healer: cannot write \(output): \(error.localizedDescription)")
                    throw ExitCode.failure
                }
            } else {
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
            Output.error(
                "healer: exported \(state.incidents.count) open incident\(state.incidents.count == 1 ? "" : "s") and \(decisions.count) "
                    + "decision\(decisions.count == 1 ? "" : "s") from \(name)\(output.map { " to \($0)" } ?? "") in "
                    + Output.milliseconds(started.duration(to: .now)))
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a state exported by `healer state export` into a store nobody is using.")

        @OptionGroup var options: Options

        @Option(name: [.short, .long], help: ArgumentHelp("The exported document.", valueName: "file"))
        var input: String

        @Flag(help: "Replace a state the store already holds (it is lost: export it first).")
        var replace = false

        func run() async throws {
            let started = ContinuousClock.now
            let configuration = try options.config.load()
            let (kind, name) = try options.resolve(configuration)
            let document = try Self.read(input)
            try await StateCommand.reportingErrors {
                if kind == .kubernetes, let ha = configuration.ha {
                    try await Self.importShared(document, access: try HAAccess(configuration: configuration, ha: ha), name: name, replace: replace)
                    return
                }
                let store = try await SQLiteStateStore.open(path: configuration.state.path, lockTimeout: 0.5)
                do {
                    if !replace, let existing = try await store.load() { try Self.refuse(name, existing) }
                    try await store.save(document.state, appending: document.decisions)
                } catch {
                    await store.close()
                    throw error
                }
                await store.close()
            }
            Output.error(
                "healer: imported \(document.state.incidents.count) open incident\(document.state.incidents.count == 1 ? "" : "s") and "
                    + "\(document.decisions.count) decision\(document.decisions.count == 1 ? "" : "s") from \(input) (exported from "
                    + "\(document.source) at \(document.exportedAt)) into \(name) in \(Output.milliseconds(started.duration(to: .now)))")
        }

        /// The document in `path`, or an error naming the file and the field.
        static func read(_ path: String) throws -> Document {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                Output.error("healer: cannot read \(path): \(error.localizedDescription)")
                throw ExitCode.failure
            }
            struct Header: Decodable {
                var kind: String?
                var format: Int?
            }
            guard let header = try? JSONDecoder().decode(Header.self, from: data), header.kind == "HealerState" else {
                Output.error("healer: \(path) is not a state exported by `healer state export` (no \"kind\": \"HealerState\")")
                throw ExitCode.failure
            }
            if let format = header.format, format > EngineState.currentVersion {
                Output.error(
                    "healer: \(path) was exported by a newer Healer (format \(format); this one reads up to \(EngineState.currentVersion))")
                throw ExitCode.failure
            }
            do {
                return try HealerJSON.decoder(unixDates: false).decode(Document.self, from: data)
            } catch let DecodingError.keyNotFound(key, context) {
                Output.error("healer: \(path): \(Self.field(context.codingPath + [key])): missing")
            } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context)
            {
                Output.error("healer: \(path): \(Self.field(context.codingPath)): \(context.debugDescription)")
            } catch {
                Output.error("healer: \(path): \(error)")
            }
            throw ExitCode.failure
        }

        static func field(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "(document)" : path.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().trimmingCharacters(in: ["."])
        }

        static func refuse(_ name: String, _ existing: EngineState) throws -> Never {
            Output.error(
                "healer: \(name) already holds a state (\(existing.incidents.count) open incident\(existing.incidents.count == 1 ? "" : "s")): "
                    + "nothing imported; export it first if it matters, then import with --replace")
            throw ExitCode.failure
        }

        /// Writes the document into the shared state as a leader would: it takes the Lease (refused while a replica
        /// holds it), takes the state over in that term (so the fence holds against any replica that led before), saves,
        /// and lets the Lease go; the next leader's term is later, and it takes the imported state over.
        static func importShared(_ document: Document, access: HAAccess, name: String, replace: Bool) async throws {
            let elector = access.elector(
                identity: "healer-state-import_" + UUID().uuidString.prefix(8).lowercased(), url: nil,
                logger: Logger(label: "healer.state") { _ in SwiftLogNoOpLogHandler() })
            // A holder is judged by this process's clock from when it first saw the Lease, as any replica judges it: a
            // lease left by a dead replica is free once it has run out, a live replica keeps it.
            let deadline = ContinuousClock.now + access.settings.leaseDuration + access.settings.retryPeriod * 2
            var acquired = await elector.tryAcquireOrRenew()
            if !acquired, let holder = elector.holder, !holder.isEmpty {
                Output.error(
                    "healer: the Lease is held by \(holder); waiting up to \(Int(access.settings.leaseDuration.components.seconds)) s for it to end")
            }
            while !acquired, ContinuousClock.now < deadline {
                try await Task.sleep(for: access.settings.retryPeriod)
                acquired = await elector.tryAcquireOrRenew()
            }
            guard acquired, let term = await elector.term() else {
                Output.error(
                    "healer: \(elector.holder.map { "\($0) holds" } ?? "cannot take") the Lease \(access.namespace)/\(access.settings.leaseName): a "
                        + "running leader would overwrite the import; stop every replica (kubectl scale deployment healer --replicas=0), "
                        + "wait for the lease to end, and import again")
                throw ExitCode.failure
            }
            do {
                let existing = try await access.store.takeOver(term)
                if !replace, let existing { try refuse(name, existing) }
                try await access.store.save(document.state, appending: document.decisions)
            } catch {
                await elector.release()
                throw error
            }
            await elector.release()
        }
    }
}
