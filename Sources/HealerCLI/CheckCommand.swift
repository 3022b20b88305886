import ArgumentParser
import CurlHTTP
import HealerController
import HealerCore
import HealerPrometheus

/// `healer check`: validates the configuration and rules, and optionally every expression against Prometheus.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and rule files; with --prometheus, run every rule's expression too.",
        discussion: """
            Prints every problem at once as file:line:column: field: message, and exits 1 when there is any. With --prometheus, each expression is evaluated once, and PromQL errors are reported at the rule's file and line, along with how many series each returns and how many of them name a server of the rule's pool.
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
        guard let prometheus else { return }
        var settings = configuration.prometheus
        settings.url = prometheus
        // The configured credentials, TLS, headers and timeouts apply; only the URL is the one given.
        let client = PrometheusClient(configuration: PrometheusConfiguration(settings: settings))
        var failures = 0
        for group in configuration.groups {
            let pool = configuration.pools[group.pool]
            let expressions =
                group.rules.map { ($0.name, $0.expression, $0.source, true) } + group.weights.map { ($0.name, $0.expression, $0.source, true) }
                + group.scale.map { ($0.name, $0.expression, $0.source, false) }
            for (name, expression, source, perServer) in expressions {
                do {
                    let response = try await client.query(expression)
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
                    var line = "\(source): \(name): ok, \(samples.count) series"
                    if perServer { line += ", \(mapped) naming a server of pool \(group.pool)" }
                    for warning in response.warnings { line += "; warning: \(warning)" }
                    print(line)
                    if perServer, !samples.isEmpty, mapped == 0 {
                        Output.error(
                            "\(source): rules.\(name).expr: no series names a server of pool \(group.pool); check the pool's target templates")
                    }
                } catch let error as PrometheusError where error.kind == .transport || error.kind == .unavailable {
                    Output.error("healer: \(error)")
                    throw ExitCode.failure
                } catch let error as PrometheusError {
                    Output.error("\(source): rules.\(name).expr: \(error.kind.rawValue): \(error.message)")
                    failures += 1
                }
            }
        }
        if failures > 0 {
            Output.error("healer: \(failures) expression\(failures == 1 ? "" : "s") failed against \(prometheus)")
            throw ExitCode.failure
        }
    }
}
