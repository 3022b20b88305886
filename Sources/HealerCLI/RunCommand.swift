import ArgumentParser
import CurlHTTP
import Foundation
import HealerController
import HealerCore
import HealerKubernetes
import HealerPrometheus
import HealerRules
import HealerServer
import HealerStore
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

            What Healer did (open incidents and their steps, budgets, quarantines, pauses) is saved in state.path (SQLite, default .healer/state.db beside the configuration) before it acts, and read back at start: a restarted Healer re-asserts the remedies in force. A state file it cannot read, or that another Healer holds, stops it at start, naming the file.

            It serves server.listen (default 127.0.0.1:9102): /metrics, /healthz, /readyz, the Alertmanager receiver POST /api/v1/alerts and the admin API (docs/api.md). SIGHUP or POST /api/v1/reload reloads the configuration; a broken file keeps the previous one.
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
        for warning in ConfigurationWarnings.of(configuration) {
            logger.warning("\(warning.message)", metadata: ["at": "\(warning.location)", "field": "\(warning.field)"])
        }
        // A pass's working memory stays mapped for the next pass (docs/scale.md).
        let keepsPassMemory = PassMemory.keepBetweenPasses(environment: ProcessInfo.processInfo.environment)
        logger.debug("pass memory kept between passes: \(keepsPassMemory)")
        let limit = FileDescriptorBudget.raiseLimit(
            maxConnections: configuration.server.maxConnections, queryConcurrency: configuration.reconcile.queryConcurrency)
        if let problem = FileDescriptorBudget.problem(
            maxConnections: configuration.server.maxConnections, queryConcurrency: configuration.reconcile.queryConcurrency, limit: limit)
        {
            Output.error("healer: \(config.path): \(problem)")
            throw ExitCode.failure
        }
        let client = PrometheusClient(configuration: PrometheusConfiguration(settings: configuration.prometheus))
        let journal = DecisionJournal()
        let metrics = ControllerMetrics(configuration: configuration)
        let dataDirectory = HAAccess.dataDirectory(configuration)
        let kubernetes = KubernetesClusters(configuration: configuration, dataDirectory: dataDirectory)
        for cluster in kubernetes.clusters.values.sorted(by: { $0.name < $1.name }) {
            if let problem = cluster.problem {
                logger.error(
                    "cannot reach Kubernetes: its pools are unreachable until a restart",
                    metadata: ["balancer": "\(cluster.name)", "error": "\(problem)"])
            }
        }
        // With `ha:`, replicas elect a leader on a Lease and share their state in a ConfigMap; only the leader acts
        // (followers judge and serve status and metrics).
        var elector: LeaseElector?
        var forwarder: LeaderForwarder?
        let passTrigger = PassTrigger()
        let store: any StateStore
        let saved: EngineState?
        if let ha = configuration.ha {
            let shared: ConfigMapStateStore
            do {
                let access = try HAAccess(configuration: configuration, ha: ha)
                let environment = ProcessInfo.processInfo.environment
                let identity = HAAccess.identity(ha, environment: environment)
                shared = access.store
                elector = access.elector(
                    identity: identity, url: ha.advertisedURL(listen: configuration.server.listen, podIP: environment["POD_IP"]), logger: logger
                ) { leading, _ in
                    metrics.leadershipChanged(leading: leading)
                    // Its first pass that could act (taking the shared state over) runs now, not at the next slot.
                    if leading { passTrigger.ring() }
                }
                forwarder = LeaderForwarder(identity: identity) { [shared] in await shared.leaderURL }
            } catch {
                Output.error("healer: \(config.path): ha: \(error)")
                throw ExitCode.failure
            }
            store = shared
            // Read at start to refuse a state this version cannot read; an API server not answering yet is no reason
            // to stop (the passes read it again, and do nothing until they can).
            do {
                _ = try await shared.load()
                journal.append(try await shared.recentRecords(limit: journal.capacity))
            } catch SharedStateError.unreachable(_, let error) {
                logger.warning("cannot read the shared state yet", metadata: ["error": "\(error)"])
            } catch {
                Output.error("healer: \(error)")
                throw ExitCode.failure
            }
            saved = nil  // the first pass reads it: as a follower, or taking it over
        } else {
            // The state is read once before anything starts: a file Healer cannot read stops it here, with the file
            // named, instead of a controller that forgot the servers it drained.
            do {
                let local = try await SQLiteStateStore.open(path: configuration.state.path)
                saved = try await local.load() ?? EngineState(maxActionsPerMinute: configuration.safety.maxActionsPerMinute)
                // The decisions from before the restart stay in the API and the status views.
                journal.append(try await local.recentRecords(limit: journal.capacity))
                store = local
            } catch {
                Output.error("healer: \(error)")
                throw ExitCode.failure
            }
        }
        let service = ReconcilerService(
            configuration: configuration,
            dependencies: .init(
                metrics: PrometheusMetricsSource(client: client), actuator: ActuatorRouter(configuration: configuration, kubernetes: kubernetes),
                balancer: configuration.balancers.isEmpty
                    ? nil : BalancerSet(configuration: configuration, makeDriver: BalancerDrivers.standard(kubernetes: kubernetes)),
                store: store, elector: elector ?? SingleInstanceLeaderElector(), journal: journal,
                observer: metrics),
            clock: ContinuousClock(),
            loadedState: saved, passTrigger: passTrigger,
            logger: logger)
        logger.info(
            "healer started",
            metadata: [
                "version": "\(BuildInfo.version)", "commit": "\(BuildInfo.commit)", "swift": "\(BuildInfo.swiftVersion)",
                "config": "\(config.path)", "pools": "\(configuration.pools.count)", "rules": "\(configuration.recoveryRules.count)",
                "interval": "\(PrometheusDuration.format(configuration.reconcile.interval))",
                "prometheus": "\(URLRedaction.redacted(configuration.prometheus.url))",
                "listen": "\(configuration.server.listen)", "dry_run": "\(configuration.safety.dryRun)",
                "state": "\(configuration.ha.map { "configmap/\($0.stateConfigMap)" } ?? configuration.state.path)",
                "open_incidents": "\(saved?.incidents.count ?? 0)",
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
        let path = config.path
        let api = ControllerAPI(service: service, metrics: metrics, journal: journal, leaderForwarder: forwarder) {
            try ConfigurationLoader.load(path: path)
        }
        var token: String?
        if let file = configuration.server.bearerTokenFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                Output.error("healer: cannot read the API token from \(file)")
                throw ExitCode.failure
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let app = try HealerHTTPServer.application(
            api: api,
            settings: .init(
                listen: configuration.server.listen, token: token, readTimeout: configuration.server.readTimeout,
                writeTimeout: configuration.server.writeTimeout, maxConnections: configuration.server.maxConnections),
            logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            // Shutdown runs in reverse: the reloader and the loop stop first, the HTTP server (and /metrics) last.
            // The elector stops after the loop (releasing the lease once nothing more is done), before the HTTP server.
            services: [.init(service: app)] + (elector.map { [.init(service: $0)] } ?? [])
                + [.init(service: service), .init(service: ReloadOnSignal(api: api, logger: logger))],
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(30)
        try await ServiceGroup(configuration: groupConfiguration).run()
        logger.info("healer stopped")
    }
}

/// `--log-format`.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json

    var handlerFormat: HealerLogHandler.Format { self == .text ? .text : .json }
}
