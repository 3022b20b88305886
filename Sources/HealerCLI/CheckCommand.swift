import ArgumentParser
import CurlHTTP
import Foundation
import HealerController
import HealerCore
import HealerPrometheus
import HealerRules
import HealerServer
import SeriesLabels

/// `healer check`: validates the configuration and rules, and optionally every expression against Prometheus.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and rule files; with --prometheus, run every rule's expression too.",
        discussion: """
            Prints every problem at once as file:line:column: field: message, and exits 1 when there is any, and a note for each recovery rule whose data age cannot be checked (freshness: auto on an expression whose raw selectors cannot be read). With --prometheus, each expression and each rule's freshness query is evaluated once, and PromQL errors are reported at the rule's file and line, along with how many series each returns, how many of them name a server of the rule's pool, and how many servers' data is stale now.
            """
    )

    @OptionGroup var config: ConfigOption

    @Option(help: ArgumentHelp("Evaluate every expression against this Prometheus.", valueName: "url"))
    var prometheus: String?

    func run() async throws {
        let configuration = try config.load()
        let recovery = configuration.recoveryRules.count
        let weights = configuration.groups.reduce(0) { $0 + $1.weights.count }
        let scale = configuration.groups.reduce(0) { $0 + $1.scale.count }
        let files = Set(configuration.groups.map(\.source.file)).count
        print(
            "\(config.path): ok: \(configuration.pools.count) pool\(configuration.pools.count == 1 ? "" : "s"), "
                + "\(recovery) recovery rule\(recovery == 1 ? "" : "s"), \(weights) weight, \(scale) scale, in \(files) rule file\(files == 1 ? "" : "s")"
                + (configuration.safety.dryRun ? " (dry run)" : ""))
        for warning in ConfigurationWarnings.of(configuration) {
            print("\(warning.location): \(warning.field): warning: \(warning.message)")
        }
        let engine = Engine(configuration: configuration)
        let freshness = Dictionary(engine.freshnessChecks.flatMap { $0.queries.map { ($0.key, $0.value) } }) { first, _ in first }
        for rule in configuration.recoveryRules {
            for note in Self.freshnessNotes(rule, checked: freshness[rule.name] != nil, configuration: configuration) {
                print("\(rule.source): \(rule.name): note: \(note)")
            }
        }
        // A note, not a failure: the limit is this machine's, and Healer may run elsewhere.
        if let problem = FileDescriptorBudget.problem(
            maxConnections: configuration.server.maxConnections, queryConcurrency: configuration.reconcile.queryConcurrency,
            limit: FileDescriptorBudget.hardLimit())
        {
            print("\(configuration.server.source): note: on this machine, healer run would refuse: \(problem)")
        }
        guard let prometheus else { return }
        var settings = configuration.prometheus
        settings.url = prometheus
        // The configured credentials, TLS, headers and timeouts apply; only the URL is the one given.
        let client = PrometheusClient(configuration: PrometheusConfiguration(settings: settings))
        var failures = 0
        var named: [String: Int] = [:]  // per rule: how many servers of its pool its answer names
        for group in configuration.groups {
            let pool = configuration.pools[group.pool]
            let expressions =
                group.rules.map { ($0.name, $0.expression, $0.source, true) } + group.weights.map { ($0.name, $0.expression, $0.source, true) }
                + group.scale.map { ($0.name, $0.expression, $0.source, false) }
            for (name, expression, source, perServer) in expressions {
                guard let response = try await Self.ask(client, expression, field: "\(source): rules.\(name).expr", failures: &failures) else {
                    continue
                }
                guard case .vector(let samples) = response.result else {
                    if case .scalar = response.result, !perServer {
                        print("\(source): \(name): ok, a scalar")
                        continue
                    }
                    Output.error("\(source): rules.\(name).expr: returns a \(response.result.resultType); rules need an instant vector")
                    failures += 1
                    continue
                }
                let mapped = samples.filter { pool?.server(for: $0.labels) != nil }.count
                named[name] = mapped
                var line = "\(source): \(name): ok, \(samples.count) series"
                if perServer { line += ", \(mapped) naming a server of pool \(group.pool)" }
                for warning in response.warnings { line += "; warning: \(warning)" }
                print(line)
                if perServer, !samples.isEmpty, mapped == 0 {
                    // The answer shows which labels are there: name the ones the templates read and no series has.
                    let absent = (pool?.labelsRead ?? []).filter { label in samples.allSatisfy { $0.labels[label] == nil } }.sorted()
                    let present = Set(samples.flatMap(\.labels.names)).sorted()
                    Output.error(
                        "\(source): rules.\(name).expr: no series names a server of pool \(group.pool); "
                            + (absent.isEmpty
                                ? "check the pool's target templates"
                                : "its target templates read \(absent.map { "$labels.\($0)" }.joined(separator: ", ")), which no series of the "
                                    + "answer has (they have: \(present.isEmpty ? "no label" : present.joined(separator: ", ")))"))
                    failures += 1
                }
            }
        }
        for rule in configuration.recoveryRules {
            guard let query = freshness[rule.name],
                let response = try await Self.ask(client, query, field: "\(rule.source): rules.\(rule.name).freshness", failures: &failures)
            else { continue }
            guard case .vector(let samples) = response.result else {
                Output.error("\(rule.source): rules.\(rule.name).freshness: returns a \(response.result.resultType); it needs an instant vector")
                failures += 1
                continue
            }
            let pool = configuration.pools[rule.pool]
            let stale = Set(samples.compactMap { pool?.server(for: $0.labels) })
            // The same check without its age test names every server it can see: one it cannot see is never stale.
            var coverage = ""
            if let all = rule.freshnessQuery(keeping: pool?.labelsRead ?? [], maxAge: nil),
                let answer = try await Self.ask(client, all, field: "\(rule.source): rules.\(rule.name).freshness", failures: &failures),
                case .vector(let seen) = answer.result
            {
                let covered = Set(seen.compactMap { pool?.server(for: $0.labels) })
                coverage = ", covering \(covered.count) server\(covered.count == 1 ? "" : "s")"
                if covered.isEmpty, named[rule.name, default: 0] > 0 {
                    Output.error(
                        "\(rule.source): rules.\(rule.name).freshness: names no server of pool \(rule.pool): the age of its data is never "
                            + "checked (do the raw series carry the labels the pool's target templates read?); set `freshness:`")
                }
                let future = Date().timeIntervalSince1970 + 86_400
                if seen.contains(where: { $0.value.isFinite && $0.value > future }) {
                    Output.error(
                        "\(rule.source): rules.\(rule.name).freshness: values lie more than a day ahead: it must give Unix seconds (not ms)")
                }
            }
            print("\(rule.source): \(rule.name): freshness ok\(coverage), \(stale.count) with stale data now")
        }
        if failures > 0 {
            Output.error("healer: \(failures) expression\(failures == 1 ? "" : "s") failed against \(URLRedaction.redacted(prometheus))")
            throw ExitCode.failure
        }
    }

    /// What to know about how `rule`'s data age is checked (`checked`: it has a freshness query).
    static func freshnessNotes(_ rule: RecoveryRule, checked: Bool, configuration: HealerConfiguration) -> [String] {
        var notes: [String] = []
        let maxAge = rule.maxSampleAge ?? configuration.reconcile.maxSampleAge
        if checked, maxAge >= .minutes(5) {
            notes.append(
                "max_sample_age \(PrometheusDuration.format(maxAge)) is at or above Prometheus' default lookback (5m): a stuck series "
                    + "disappears before it can be called stale")
        }
        guard rule.freshness == .derived else { return notes }
        if !checked {
            let why = rule.freshnessSelectors == nil ? "its raw selectors cannot be read with confidence" : "it reads no series"
            notes.append(
                "the age of its data is not checked (\(why)); set `freshness:` to an expression giving each server's newest sample time, or to none")
        }
        for selector in rule.freshnessSelectors ?? [] where selector.prefix(while: { $0 != "{" }).contains(":") {
            notes.append(
                "\(selector) looks like a recording rule: its samples are stamped when the rule runs, so stuck inputs look fresh; "
                    + "point `freshness:` at the raw series")
        }
        return notes
    }

    /// Runs `query`; a PromQL error is reported at `field` and counted, Prometheus out of reach stops the check.
    private static func ask(_ client: PrometheusClient, _ query: String, field: String, failures: inout Int) async throws -> QueryResponse? {
        do {
            return try await client.query(query)
        } catch let error as PrometheusError where error.kind == .transport || error.kind == .unavailable {
            Output.error("healer: \(error)")
            throw ExitCode.failure
        } catch let error as PrometheusError {
            Output.error("\(field): \(error.kind.rawValue): \(error.message)")
            failures += 1
            return nil
        }
    }
}
