public import Foundation
public import HealerCore

/// The JSON of `GET /api/v1/status`: pools, servers, verdicts, incidents, weights and gates.
public struct StatusReport: Codable, Sendable {
    /// One server of a pool.
    public struct Server: Codable, Sendable {
        /// Its name.
        public var server: String
        /// The weight Healer wants (or the balancer shows), percent of the configured weight.
        public var weightPercent: Int?
        /// Its admin state.
        public var admin: String?
        /// Whether Healer currently manages it.
        public var managed: Bool
        /// Verdict per rule.
        public var verdicts: [String: Verdict]
        /// Why the verdict is unknown, per rule whose verdict is (`stale`, `rule_error`, `prometheus_error`, …);
        /// absent when none is (and from Healers before it existed).
        public var unknownReasons: [String: UnknownReason]?
        /// Value per rule.
        public var values: [String: Double]
        /// Incident phase per rule.
        public var incidents: [String: String]
    }

    /// One pool.
    public struct Pool: Codable, Sendable {
        /// Its name.
        public var name: String
        /// Its backend.
        public var backend: String
        /// Healthy capacity share.
        public var healthyCapacity: Double?
        /// The floor.
        public var minHealthyCapacity: Double
        /// Whether it is paused.
        public var paused: Bool
        /// Whether a storm freezes remedies.
        public var storm: Bool
        /// Its servers.
        public var servers: [Server]
    }

    /// One open incident.
    public struct OpenIncident: Codable, Sendable {
        /// Rule, pool, server.
        public var rule: String
        /// The pool.
        public var pool: String
        /// The server.
        public var server: String
        /// Its phase.
        public var phase: String
        /// The step in force, 1-based.
        public var step: Int?
        /// When it opened.
        public var openedAt: Date
        /// When it fired.
        public var firedAt: Date?
    }

    /// When the last pass ran.
    public var lastPass: Date?
    /// How long it took, in seconds.
    public var lastPassSeconds: Double?
    /// Whether everything is in dry-run.
    public var dryRun: Bool
    /// Whether everything is paused.
    public var paused: Bool
    /// The pools.
    public var pools: [Pool]
    /// The open incidents.
    public var incidents: [OpenIncident]
    /// Who leads, with `ha:`; absent for a single instance (it always leads) and from Healers before it existed.
    public var leadership: Leadership?

    /// Builds the report from the configuration, the last pass and the state.
    public init(
        configuration: HealerConfiguration, outcome: Engine.Outcome?, passTime: Date?, passDuration: Duration?, now: Date,
        leadership: Leadership? = nil
    ) {
        self.leadership = leadership
        let state = outcome?.state ?? EngineState()
        lastPass = passTime
        lastPassSeconds = passDuration.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        dryRun = configuration.safety.dryRun
        paused = state.pause.global
        let desired = outcome?.plan.simulated ?? [:]
        pools = configuration.pools.values.sorted { $0.name < $1.name }.map { pool in
            var servers: [String: Server] = [:]
            for report in outcome?.verdicts ?? [] where report.key.target.pool == pool.name {
                var server =
                    servers[report.key.target.server]
                    ?? Server(
                        server: report.key.target.server, managed: false, verdicts: [:], values: [:], incidents: [:])
                server.verdicts[report.key.rule] = report.verdict
                if report.verdict == .unknown, let reason = report.unknownReason {
                    server.unknownReasons = (server.unknownReasons ?? [:]).merging([report.key.rule: reason]) { $1 }
                }
                if let value = report.value { server.values[report.key.rule] = value }
                if let phase = report.phase { server.incidents[report.key.rule] = phase.rawValue }
                servers[report.key.target.server] = server
            }
            for name in Set(pool.servers + pool.spares).subtracting(servers.keys) {
                servers[name] = Server(server: name, managed: false, verdicts: [:], values: [:], incidents: [:])
            }
            for (name, var server) in servers {
                if let want = desired[TargetID(pool: pool.name, server: name)] {
                    server.managed = true
                    server.weightPercent = want.weightPercent
                    server.admin = want.admin.rawValue
                }
                servers[name] = server
            }
            return Pool(
                name: pool.name, backend: pool.backend, healthyCapacity: outcome?.healthyCapacity[pool.name],
                minHealthyCapacity: pool.minHealthyCapacity,
                paused: state.pause.isPaused(pool.name),
                storm: [pool.name, "*"].compactMap { state.storms[$0] }.contains { $0.isFreezing(at: now) },
                servers: servers.values.sorted { $0.server < $1.server })
        }
        incidents = state.incidents.values.sorted { $0.key < $1.key }.map { incident in
            OpenIncident(
                rule: incident.key.rule, pool: incident.key.target.pool, server: incident.key.target.server, phase: incident.phase.rawValue,
                step: incident.appliedStep.map { $0 + 1 }, openedAt: incident.openedAt, firedAt: incident.firedAt)
        }
    }
}
