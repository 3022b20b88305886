// Fault-injection benchmark: HAProxy with health checks alone versus HAProxy with Healer, under the same load,
// for a crash, a gray failure (30 % errors, /health still 200), +300 ms latency, flapping, and a planned restart.
// Real HAProxy, Prometheus and demo backends on loopback. Not a test: run by bench/faults.sh.
//
//   bench-faults [--scenarios crash,errors,latency,flapping,restart] [--fault-seconds 20] [--json FILE]
import CurlHTTP
import Foundation
import HealerController
import HealerCore
import HealerHAProxy
import HealerPrometheus
import HealerTesting
import Logging

#if canImport(Glibc)
    import Glibc
#endif

struct Result: Codable {
    var scenario: String
    var mode: String
    var requests: Int
    var errors: Int
    var errorRate: Double
    var p50Milliseconds: Double
    var p99Milliseconds: Double
    var detectSeconds: Double?
    var mitigateSeconds: Double?
    var restoreSeconds: Double?
    var strandedCapacity: Double
    var actions: Int
}

func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

let errorRatio = """
    sum by (proxy, server) (rate(haproxy_server_http_responses_total{proxy="be_app",code="5xx"}[2s]))
    / clamp_min(sum by (proxy, server) (rate(haproxy_server_http_responses_total{proxy="be_app"}[2s])), 1e-9)
    """

/// Mean latency per server over the last 3 s from the backends' own histograms: HAProxy's averages cover the last
/// 1024 requests and react in tens of seconds.
let latency = """
    sum by (server) (rate(demo_request_duration_seconds_sum[3s])) / clamp_min(sum by (server) (rate(demo_request_duration_seconds_count[3s])), 1e-9)
    """

func rules() -> [RecoveryRule] {
    [
        RecoveryRule(
            name: "HighErrorRatio", pool: "web", expression: errorRatio, unhealthy: Threshold(.greater, 0.05), healthy: Threshold(.less, 0.01),
            pendingFor: .seconds(1), clearFor: .seconds(6), rampStep: .seconds(1),
            ladder: [LadderStep(.setWeight(percent: 25), verify: .seconds(1)), LadderStep(.drain(waitSessions: .seconds(3)), verify: .seconds(60))]),
        RecoveryRule(
            name: "HighLatency", pool: "web", expression: latency, unhealthy: Threshold(.greater, 0.15), healthy: Threshold(.less, 0.05),
            pendingFor: .seconds(1), clearFor: .seconds(6), rampStep: .seconds(1),
            ladder: [LadderStep(.setWeight(percent: 25), verify: .seconds(1)), LadderStep(.drain(waitSessions: .seconds(3)), verify: .seconds(60))]),
        RecoveryRule(
            name: "ServerDown", pool: "web", expression: #"max by (proxy, server) (haproxy_server_status{proxy="be_app",state="DOWN"})"#,
            unhealthy: Threshold(.equal, 1), healthy: Threshold(.equal, 0), pendingFor: .seconds(1), clearFor: .seconds(3), rampStep: .seconds(1),
            ladder: [LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(20))]),
        RecoveryRule(
            name: "MemoryLeak", pool: "web", expression: "max by (server) (demo_leaked_bytes)", unhealthy: Threshold(.greater, 100e6),
            healthy: Threshold(.less, 1e6), pendingFor: .seconds(1), clearFor: .seconds(3), rampStep: .seconds(1),
            ladder: [
                LadderStep(.drain(waitSessions: .seconds(10)), verify: .seconds(1)),
                LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(30)),
            ]),
    ]
}

/// The restart script: crash the backend if it runs, start a new one on the same port, wait for /health.
func restartScript(backends: DemoBackends, directory: String, demo: String, curl: String) throws -> String {
    let path = directory + "/restart-backend"
    try """
    #!/bin/sh
    case "$1" in
    \(backends.instances.map { "  \($0.name)) PORT=\($0.port) ;;" }.joined(separator: "\n"))
      *) exit 2 ;;
    esac
    \(curl) -s -X POST "http://127.0.0.1:$PORT/crash" >/dev/null 2>&1
    for i in $(seq 1 30); do \(curl) -s -o /dev/null "http://127.0.0.1:$PORT/health" || break; sleep 0.1; done
    nohup \(demo) --port "$PORT" --name "$1" >/dev/null 2>&1 &
    echo $! >> "\(directory)/restarted.pids"
    for i in $(seq 1 100); do \(curl) -sf -o /dev/null "http://127.0.0.1:$PORT/health" && exit 0; sleep 0.1; done
    exit 1
    """.write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
    return path
}

func run(scenario: String, withHealer: Bool, faultSeconds: Int) async throws -> Result {
    let demo = try BuiltProduct.path("demo-backend")
    let curl = try Executable.find("curl", package: "curl")
    return try await TemporaryDirectory.with(prefix: "faults") { directory in
        defer {
            if let pids = try? String(contentsOfFile: directory.path + "/restarted.pids", encoding: .utf8) {
                for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGTERM) }
            }
        }
        return try await DemoBackends.withRunning(names: ["s1", "s2", "s3"]) { backends in
            let script = try restartScript(backends: backends, directory: directory.path, demo: demo, curl: curl)
            let haproxyConfiguration: @Sendable (HAProxyServer.Ports) -> String = { ports in
                HAProxyServer.configuration(ports: ports, servers: backends.instances.map { .init(name: $0.name, port: $0.port) })
            }
            return try await HAProxyServer.withRunning(configuration: haproxyConfiguration) { haproxy in
                let targets = backends.instances.map { "      - { targets: ['127.0.0.1:\($0.port)'], labels: { server: \($0.name) } }" }.joined(
                    separator: "\n")
                let scrape: @Sendable (Int) -> String = { _ in
                    """
                    global: { scrape_interval: 1s, evaluation_interval: 1s }
                    scrape_configs:
                      - job_name: haproxy
                        static_configs: [ { targets: ['\(haproxy.metricsTarget)'] } ]
                      - job_name: demo
                        static_configs:
                    \(targets)
                    """
                }
                return try await PrometheusServer.withRunning(configuration: scrape) { prometheus in
                    var configuration = HealerConfiguration(
                        balancers: ["edge": .haproxy(runtimeAPI: haproxy.runtimeAddress)],
                        actuators: ["restart-backend": .exec(command: [script, "{{ .server }}"], timeout: .seconds(20))],
                        pools: [
                            "web": PoolSettings(
                                name: "web", balancer: "edge", backend: "be_app", servers: ["s1", "s2", "s3"], minHealthyCapacity: 0.3)
                        ],
                        groups: [RuleGroup(name: "web", pool: "web", rules: rules())])
                    configuration.reconcile.interval = .milliseconds(500)
                    configuration.safety.targetCooldown = .zero
                    configuration.safety.maxActionsPerMinute = 30
                    let journal = DecisionJournal()
                    let service = ReconcilerService(
                        configuration: configuration,
                        dependencies: .init(
                            metrics: PrometheusMetricsSource(client: PrometheusClient(configuration: .init(url: prometheus.url))),
                            actuator: ActuatorRouter(configuration: configuration),
                            balancer: BalancerSet(configuration: configuration, makeDriver: BalancerDrivers.standard()),
                            journal: journal),
                        clock: ContinuousClock(), logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
                    let loop = withHealer ? Task { try await service.run() } : nil
                    defer { loop?.cancel() }
                    let runtime = RuntimeClient(address: RuntimeAddress(parsing: haproxy.runtimeAddress)!)
                    func s1() async -> ServerRuntimeState? {
                        (try? RuntimeParsers.serversState(try await runtime.execute(.showServersState(backend: "be_app"))))?.first {
                            $0.server == "s1"
                        }
                    }

                    let load = LoadGenerator(url: haproxy.frontendURL, concurrency: 4, pause: .milliseconds(10), maximum: .seconds(faultSeconds + 60))
                    // Warm up: rates need a few scrapes; with Healer, wait until it judges every server healthy.
                    let warm = ContinuousClock.now.advanced(by: .seconds(6))
                    try await waitUntil("warm-up", timeout: .seconds(60)) {
                        let healthy =
                            !withHealer
                            || (service.lastPass?.outcome.verdicts ?? []).filter { $0.key.rule == "HighErrorRatio" && $0.verdict == .healthy }.count
                                == 3
                        return ContinuousClock.now >= warm && healthy
                    }
                    let t0 = ContinuousClock.now
                    let wall0 = Date()
                    let s1Backend = backends["s1"]
                    switch scenario {
                    case "crash":
                        _ = try? await HTTPClient().execute(HTTPRequest(method: .post, url: s1Backend.url + "/crash", timeout: .seconds(2)))
                    case "errors":
                        try await s1Backend.setFault(["error_ratio": 0.3])
                    case "latency":
                        try await s1Backend.setFault(["latency_ms": 300])
                    case "restart":
                        if withHealer {
                            try await s1Backend.setFault(["leak_mb": 512])  // Healer drains, waits for sessions, restarts
                        } else {
                            let process = try ManagedProcess.start(
                                .init(name: "restart", executable: script, arguments: ["s1"], directory: directory.path, readiness: .immediately))
                            _ = try await eventually("the naive restart", timeout: .seconds(30)) { process.exitStatus() }
                        }
                    default: break
                    }
                    // Flapping toggles the fault every 5 s for the fault window; the others hold it.
                    let faultEnd = t0.advanced(by: .seconds(faultSeconds))
                    var flapOn = true
                    var nextToggle = t0.advanced(by: .seconds(5))
                    if scenario == "flapping" { try await s1Backend.setFault(["error_ratio": 0.5]) }
                    var restoredAt: ContinuousClock.Instant?
                    var faultCleared = false
                    var sawDown = !(scenario == "crash" || scenario == "restart")
                    let end = faultEnd.advanced(by: .seconds(25))
                    try await waitUntil("the scenario", timeout: .seconds(faultSeconds + 90), interval: .milliseconds(250)) {
                        let now = ContinuousClock.now
                        if scenario == "flapping", now < faultEnd, now >= nextToggle {
                            flapOn.toggle()
                            if flapOn { try await s1Backend.setFault(["error_ratio": 0.5]) } else { try await s1Backend.clearFault() }
                            nextToggle = now.advanced(by: .seconds(5))
                        }
                        if now >= faultEnd, !faultCleared, ["errors", "latency", "flapping"].contains(scenario) {
                            faultCleared = true
                            try await s1Backend.clearFault()
                        }
                        if let state = await s1(), !state.isRunning || state.adminState != .ready { sawDown = true }
                        if restoredAt == nil, sawDown, now > t0.advanced(by: .seconds(1)), let state = await s1(),
                            state.isRunning, state.adminState == .ready, state.userWeight == state.initialWeight,
                            scenario == "crash" || scenario == "restart" || now >= faultEnd,
                            !withHealer || (service.currentState?.incidents.isEmpty ?? true)
                        {
                            restoredAt = now
                        }
                        return now >= end
                    }
                    await load.stop()
                    let window = load.outcomes(since: t0).filter { $0.time <= faultEnd.advanced(by: .seconds(5)) }
                    let latencies = window.filter { ($0.status ?? 0) < 500 && $0.status != nil }.map { seconds($0.latency) * 1000 }
                    let errors = window.filter { ($0.status ?? 599) >= 500 }.count
                    let records = journal.records(server: "s1").filter { $0.time >= wall0 }
                    let detect = records.first { $0.reason.hasPrefix("firing") }.map { $0.time.timeIntervalSince(wall0) }
                    let mitigate = records.first { $0.kind == .action }.map { $0.time.timeIntervalSince(wall0) }
                    let final = await s1()
                    let stranded =
                        (final?.isRunning == true && final?.adminState == .ready)
                        ? Double((final?.initialWeight ?? 100) - (final?.userWeight ?? 100)) / Double(final?.initialWeight ?? 100) / 3 : 1.0 / 3
                    return Result(
                        scenario: scenario, mode: withHealer ? "healer" : "haproxy-only", requests: window.count, errors: errors,
                        errorRate: window.isEmpty ? 0 : Double(errors) / Double(window.count), p50Milliseconds: percentile(latencies, 0.5),
                        p99Milliseconds: percentile(latencies, 0.99), detectSeconds: detect, mitigateSeconds: mitigate,
                        restoreSeconds: restoredAt.map { seconds(t0.duration(to: $0)) }, strandedCapacity: stranded,
                        actions: records.filter { $0.kind == .action }.count)
                }
            }
        }
    }
}

var scenarios = ["crash", "errors", "latency", "flapping", "restart"]
var faultSeconds = 20
var jsonPath: String?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    guard let value = arguments.next() else { fatalError("\(flag) needs a value") }
    switch flag {
    case "--scenarios": scenarios = value.split(separator: ",").map(String.init)
    case "--fault-seconds": faultSeconds = Int(value) ?? faultSeconds
    case "--json": jsonPath = value
    default: fatalError("unknown flag \(flag)")
    }
}
var results: [Result] = []
for scenario in scenarios {
    for withHealer in [false, true] {
        let started = ContinuousClock.now
        FileHandle.standardError.write(Data("bench: \(scenario), \(withHealer ? "with Healer" : "HAProxy alone")…".utf8))
        do {
            let result = try await run(scenario: scenario, withHealer: withHealer, faultSeconds: faultSeconds)
            results.append(result)
            FileHandle.standardError.write(Data(" \(result.errors)/\(result.requests) errors, \(Int(seconds(started.duration(to: .now))))s\n".utf8))
        } catch {
            FileHandle.standardError.write(Data(" failed: \(error)\n".utf8))
        }
    }
}
let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
let json = try encoder.encode(results)
if let jsonPath { try json.write(to: URL(fileURLWithPath: jsonPath)) }
func show(_ value: Double?, _ format: String = "%.1f") -> String { value.map { String(format: format, $0) } ?? "—" }
print(
    "| scenario | mode | requests | client errors | error rate | p50 (ms) | p99 (ms) | detect (s) | mitigate (s) | full capacity (s) | stranded | actions |"
)
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in results {
    print(
        "| \(r.scenario) | \(r.mode) | \(r.requests) | \(r.errors) | \(show(r.errorRate * 100, "%.2f"))% | \(show(r.p50Milliseconds)) | \(show(r.p99Milliseconds)) | "
            + "\(show(r.detectSeconds)) | \(show(r.mitigateSeconds)) | \(show(r.restoreSeconds)) | \(show(r.strandedCapacity * 100, "%.0f"))% | \(r.actions) |"
    )
}
