// Scale benchmark: one reconcile pass over N targets × 20 recovery rules, Prometheus answers served from
// generated fixtures by a loopback server. Reports wall time, CPU time, peak RSS, and how the time splits
// between fetching + decoding the answers and the engine. Not a test: run by bench/scale.sh.
//
//   bench-scale [--targets 1000,10000,50000] [--rules 20] [--repeats 5]
import CurlHTTP
import Foundation
import HealerController
import HealerCore
import HealerPrometheus
import HealerTesting
import Logging

#if canImport(Glibc)
    import Glibc
#endif

struct Options {
    var targets = [1000, 10_000, 50_000]
    var rules = 20
    var repeats = 5

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { fatalError("\(flag) needs a value") }
            switch flag {
            case "--targets": targets = value.split(separator: ",").compactMap { Int($0) }
            case "--rules": rules = Int(value) ?? rules
            case "--repeats": repeats = Int(value) ?? repeats
            default: fatalError("unknown flag \(flag)")
            }
        }
    }
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

/// A vector answer with one series per server; about 1 % of servers unhealthy.
func fixture(servers: Int, rule: Int) -> String {
    var parts: [String] = []
    parts.reserveCapacity(servers)
    for index in 0..<servers {
        let value = (index + rule) % 97 == 0 ? "0.3" : "0.001"
        parts.append(#"{"metric":{"proxy":"be_app","server":"s\#(index)"},"value":[1795726808.818,"\#(value)"]}"#)
    }
    return #"{"status":"success","data":{"resultType":"vector","result":["# + parts.joined(separator: ",") + "]}}"
}

let options = Options(CommandLine.arguments)
print("targets,rules,wall_ms,cpu_ms,engine_ms,fetch_decode_ms,decode_only_ms,peak_rss_mib")
for targets in options.targets {
    let answers = (0..<options.rules).map { fixture(servers: targets, rule: $0) }
    let byExpression = Dictionary(uniqueKeysWithValues: answers.enumerated().map { ("rule_\($0.offset)", $0.element) })
    let server = try ScriptedHTTPServer { request in
        .json(byExpression[request.formFields["query"] ?? ""] ?? #"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
    }
    defer { server.stop() }
    let rules = (0..<options.rules).map { index in
        RecoveryRule(
            name: "rule_\(index)", pool: "web", expression: "rule_\(index)", unhealthy: Threshold(.greater, 0.05), healthy: Threshold(.less, 0.01),
            pendingFor: .seconds(30), ladder: [LadderStep(.setWeight(percent: 50))])
    }
    var configuration = HealerConfiguration(
        pools: [
            "web": PoolSettings(name: "web", backend: "be_app", servers: (0..<targets).map { "s\($0)" }, minHealthyCapacity: 0.5, maxInFlight: 10)
        ],
        groups: [RuleGroup(name: "web", pool: "web", rules: rules)])
    configuration.prometheus.url = server.url
    configuration.reconcile.queryConcurrency = 4
    configuration.safety.dryRun = true
    let client = PrometheusClient(configuration: .init(url: server.url, http: .init(timeout: .seconds(60))))
    let service = ReconcilerService(
        configuration: configuration, dependencies: .init(metrics: PrometheusMetricsSource(client: client)), clock: ContinuousClock(),
        logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
    await service.runPass()  // warm up: connections, state

    // Decoding alone, for the share of the pass it takes.
    let bodies = answers.map { Data($0.utf8) }
    let decodeStart = ContinuousClock.now
    for body in bodies { _ = try PrometheusClient.decodeQueryResponse(body) }
    let decodeOnly = seconds(decodeStart.duration(to: .now))

    var walls: [Double] = []
    var cpus: [Double] = []
    var engines: [Double] = []
    for _ in 0..<options.repeats {
        let cpu = cpuSeconds()
        let start = ContinuousClock.now
        let pass = await service.runPass()
        walls.append(seconds(start.duration(to: .now)))
        cpus.append(cpuSeconds() - cpu)
        // The engine alone on the same inputs, measured apart.
        let observations = Observations(
            rules: Dictionary(
                uniqueKeysWithValues: try answers.enumerated().map { index, text in
                    guard case .vector(let samples) = try PrometheusClient.decodeQueryResponse(Data(text.utf8)).result else { fatalError() }
                    return ("rule_\(index)", RuleObservation.series(samples.map { SeriesSample(labels: $0.labels, value: $0.value) }, at: pass.time))
                }))
        let engineStart = ContinuousClock.now
        _ = service.engine.reconcile(state: pass.outcome.state, observations: observations, now: pass.time)
        engines.append(seconds(engineStart.duration(to: .now)))
    }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    let wall = median(walls)
    let engine = median(engines)
    print(
        String(
            format: "%d,%d,%.1f,%.1f,%.1f,%.1f,%.1f,%.0f", targets, options.rules, wall * 1000, median(cpus) * 1000, engine * 1000,
            max(0, wall - engine) * 1000, decodeOnly * 1000, peakRSSMiB()))
}
