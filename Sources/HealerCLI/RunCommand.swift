import ArgumentParser
import Foundation
import HealerController
import HealerCore
import HealerPrometheus
import Logging
import ServiceLifecycle
import UnixSignals

/// `healer run`: the controller.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the controller: judge every server every interval, and record (or take) remedies.",
        discussion: """
            Logs every verdict change and decision as a structured line (--log-format json for one JSON object per line). SIGTERM or SIGINT stops it gracefully: the pass in flight finishes first.

            Remedies change HAProxy through its runtime API and run the configured exec and webhook actuators; with safety.dry_run (or a rule's dry_run) they are only recorded.
            """
    )

    @OptionGroup var config: ConfigOption

    @Option(help: ArgumentHelp("Log format: text or json.", valueName: "format"))
    var logFormat: LogFormat = .text

    @Flag(help: "Run one pass, print its verdicts and decisions, and exit.")
    var once = false

    func run() async throws {
        let configuration = try config.load()
        let format = logFormat.handlerFormat
        LoggingSystem.bootstrap { _ in HealerLogHandler(format: format) }
        let logger = Logger(label: "healer")
        let client = PrometheusClient(configuration: PrometheusConfiguration(settings: configuration.prometheus))
        let service = ReconcilerService(
            configuration: configuration,
            dependencies: .init(
                metrics: PrometheusMetricsSource(client: client), actuator: ActuatorRouter(configuration: configuration),
                balancer: configuration.balancers.isEmpty ? nil : BalancerSet(configuration: configuration),
                observer: ControllerMetrics(configuration: configuration)),
            clock: ContinuousClock(),
            logger: logger)
        logger.info(
            "healer started",
            metadata: [
                "config": "\(config.path)", "pools": "\(configuration.pools.count)", "rules": "\(configuration.recoveryRules.count)",
                "interval": "\(PrometheusDuration.format(configuration.reconcile.interval))", "prometheus": "\(configuration.prometheus.url)",
            ])
        if once {
            let pass = await service.runPass()
            let rows = pass.outcome.verdicts.map { verdict in
                [
                    verdict.key.target.pool, verdict.key.target.server, verdict.key.rule,
                    verdict.verdict.rawValue + (verdict.unknownReason.map { " (\($0.rawValue))" } ?? ""),
                    verdict.value.map { PrometheusValue.format($0) } ?? "-", verdict.phase?.rawValue ?? "-",
                ]
            }
            print(TextTable(header: ["POOL", "SERVER", "RULE", "VERDICT", "VALUE", "INCIDENT"], rows: rows, rightAligned: [4]).render())
            return
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [],
                logger: logger))
        try await group.run()
        logger.info("healer stopped")
    }
}

/// `--log-format`.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json

    var handlerFormat: HealerLogHandler.Format { self == .text ? .text : .json }
}
