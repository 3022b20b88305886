// Scale benchmark: one reconcile pass over N targets × 20 recovery rules, Prometheus answers served from
// generated fixtures by a loopback server in a child process (its CPU is not Healer's). Reports wall time,
// CPU time, allocations and peak RSS of the pass, and the CPU of the engine and of JSON decoding measured
// apart on the same inputs. Not a test: run by bench/scale.sh, which preloads the malloc interposer
// (ordo-one/malloc-interposer) that counts allocations; without it they show as 0.
//
// `bench-scale --help` lists its modes and flags (Options.usage).
import CurlHTTP
import Foundation
import HealerController
import HealerCore
import HealerPrometheus
import HealerTesting
import Logging
import MallocInterposerSwift
import SeriesLabels

#if canImport(Glibc)
    import Glibc
#endif

struct Options {
    var targets = [1000, 10_000, 50_000]
    var rules = 20
    var repeats = 5
    var serve: Int?
    var decodeOnly: Int?
    var engineOnly: Int?
    var engineStates = ["pending", "firing"]
    var passOnly = false
    var wide = false
    var queryConcurrency = 4

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            if flag == "--help" || flag == "-h" {
                print(Self.usage)
                exit(0)
            }
            guard let value = iterator.next() else { Self.fail("\(flag) needs a value") }
            switch flag {
            case "--targets": targets = value.split(separator: ",").compactMap { Int($0) }
            case "--rules": rules = Int(value) ?? rules
            case "--repeats": repeats = Int(value) ?? repeats
            case "--serve": serve = Int(value)
            case "--decode-only": decodeOnly = Int(value)
            case "--engine-only": engineOnly = Int(value)
            case "--engine-states": engineStates = value.split(separator: ",").map(String.init)
            case "--wide": wide = value == "yes" || value == "true"
            case "--pass-only": passOnly = value == "yes" || value == "true"
            case "--query-concurrency": queryConcurrency = Int(value) ?? queryConcurrency
            default: Self.fail("unknown flag \(flag)")
            }
        }
    }

    static let usage = """
        usage: bench-scale [--targets 1000,10000,50000] [--rules 20] [--repeats 5] [--wide yes] [--query-concurrency 4]
               bench-scale --targets N --pass-only yes     whole passes only, each one's CPU and page faults
               bench-scale --engine-only N | --decode-only N   one part alone, over and over
               bench-scale --engine-only N --engine-states pending   the engine from one state only (pending, firing)
               bench-scale --serve N --rules R             the fixture server (started by the benchmark itself)
        Run by bench/scale.sh, which preloads the malloc interposer that counts allocations.
        """

    /// Stops with `message` and the usage on standard error.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("bench-scale: \(message)\n\(Self.usage)\n".utf8))
        exit(2)
    }
}

/// CPU seconds of the whole process (every thread) or of the calling thread.
func cpuSeconds(thread: Bool = false) -> Double {
    var time = timespec()
    clock_gettime(thread ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// This process's resource usage so far.
func usage() -> rusage {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage
}

func minorFaults() -> Int { usage().ru_minflt }

func peakRSSMiB() -> Double { Double(usage().ru_maxrss) / 1024 }

func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

/// A vector answer with one series per server; about 1 % of servers unhealthy by each rule. Series carry the
/// two labels the pool template reads, or with `wide` the six a `sum by` over HAProxy's exporter usually keeps.
func fixture(servers: Int, rule: Int, wide: Bool = options.wide) -> String {
    var parts: [String] = []
    parts.reserveCapacity(servers)
    for index in 0..<servers {
        let value = (index + rule) % 97 == 0 ? "0.3" : "0.001"
        let labels =
            wide
            ? #""env":"prod","instance":"10.1.\#(index / 250).\#(index % 250):8404","job":"haproxy","proxy":"be_app","region":"eu-west-1","server":"s\#(index)""#
            : #""proxy":"be_app","server":"s\#(index)""#
        parts.append(#"{"metric":{\#(labels)},"value":[1795726808.818,"\#(value)"]}"#)
    }
    return #"{"status":"success","data":{"resultType":"vector","result":["# + parts.joined(separator: ",") + "]}}"
}

/// Serves the fixtures of `servers` × `rules` until standard input ends.
func serve(servers: Int, rules: Int) throws {
    let answers = Dictionary(uniqueKeysWithValues: (0..<rules).map { ("rule_\($0)", fixture(servers: servers, rule: $0)) })
    let server = try ScriptedHTTPServer { request in
        .json(answers[request.formFields["query"] ?? ""] ?? #"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
    }
    print(server.url)
    fflush(nil)
    while readLine() != nil {}
    server.stop()
}

/// Starts the fixture server in a child process and returns it with its URL.
func startServer(servers: Int, rules: Int) throws -> (Process, Pipe, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["--serve", String(servers), "--rules", String(rules), "--wide", options.wide ? "yes" : "no"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    var line = Data()
    while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != UInt8(ascii: "\n") {
        line.append(first)
    }
    return (process, input, String(decoding: line, as: UTF8.self))
}

/// Heap allocations and bytes allocated so far (0 unless the interposer is preloaded).
func allocations() -> (count: Int, bytes: Int) {
    let statistics = MallocInterposerSwift.getStatistics()
    return (statistics.mallocCount, statistics.mallocBytesCount)
}

/// Median of `values`.
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// `targets` servers in one pool and `rules` recovery rules over them, in dry run (nothing to apply).
func benchConfiguration(targets: Int) -> HealerConfiguration {
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
    configuration.reconcile.queryConcurrency = options.queryConcurrency
    configuration.safety.dryRun = true
    return configuration
}

/// `bodies` read as the pass reads them: keeping the one label the pool's template reads.
func decodedAnswers(_ bodies: [Data]) throws -> [InstantAnswer] {
    try bodies.map { try PrometheusClient.decodeInstantAnswer($0, keepingLabels: ["server"]) }
}

/// The observations of one pass made of `answers` (rule `rule_i` answered by the i-th), as the metrics source
/// makes them.
func observations(of answers: [InstantAnswer], at time: Date) -> Observations {
    Observations(
        rules: Dictionary(
            uniqueKeysWithValues: answers.enumerated().map { index, answer in
                guard case .series(let samples) = answer.result else { fatalError("not a vector") }
                return ("rule_\(index)", RuleObservation.series(samples, at: time))
            }))
}

/// The fixture answers of `targets` servers, one per rule.
func fixtureBodies(targets: Int) -> [Data] {
    (0..<options.rules).map { Data(fixture(servers: targets, rule: $0).utf8) }
}

/// One timed engine pass, apart so that a profiler can count it alone (valgrind's `--toggle-collect`).
@inline(never)
func timedReconcile(_ engine: Engine, state: EngineState, observations: Observations, now: Date) {
    _ = engine.reconcile(state: state, observations: observations, now: now)
}

let options = Options(CommandLine.arguments)
// The allocator as `healer run` sets it up (PassMemory); with GLIBC_TUNABLES malloc settings, those instead.
PassMemory.keepBetweenPasses(environment: ProcessInfo.processInfo.environment)
if let servers = options.decodeOnly {
    // Profiling aid: read the answers of `servers` targets over and over, nothing else.
    let bodies = fixtureBodies(targets: servers)
    for _ in 0..<options.repeats {
        let start = cpuSeconds(thread: true)
        _ = try decodedAnswers(bodies)
        print(String(format: "decode %.1f ms", (cpuSeconds(thread: true) - start) * 1000))
    }
    exit(0)
}
if let servers = options.engineOnly {
    MallocInterposerSwift.hook()
    // Profiling aid: the engine's pass over the same observations, over and over, from the state of the first.
    let engine = Engine(configuration: benchConfiguration(targets: servers))
    let time = Date(timeIntervalSince1970: 1_795_726_808.818)
    let observations = observations(of: try decodedAnswers(fixtureBodies(targets: servers)), at: time)
    // From the state of the first pass (incidents pending, as in the timed passes below), and from the state
    // past the rules' `for` (2,000 incidents firing, a storm held back by the gates).
    var states = [("pending", engine.reconcile(state: EngineState(), observations: observations, now: time).state, 1.0)]
    var firing = states[0].1
    for step in 1..<5 { firing = engine.reconcile(state: firing, observations: observations, now: time.addingTimeInterval(Double(step) * 10)).state }
    states.append(("firing", firing, 41))
    for (name, state, after) in states where options.engineStates.contains(name) {
        for _ in 0..<options.repeats {
            let start = cpuSeconds(thread: true)
            let allocated = allocations().count
            timedReconcile(engine, state: state, observations: observations, now: time.addingTimeInterval(after))
            let milliseconds = (cpuSeconds(thread: true) - start) * 1000
            print(String(format: "engine (%@) %.1f ms %d allocations", name, milliseconds, allocations().count - allocated))
        }
    }
    exit(0)
}
if let servers = options.serve {
    try serve(servers: servers, rules: options.rules)
    exit(0)
}

MallocInterposerSwift.hook()
print("targets,rules,wall_ms,cpu_ms,cpu_best_ms,allocations,allocated_mib,engine_cpu_ms,engine_allocations,decode_cpu_ms,peak_rss_mib")
for targets in options.targets {
    let (child, input, url) = try startServer(servers: targets, rules: options.rules)
    defer {
        try? input.fileHandleForWriting.close()
        child.waitUntilExit()
    }
    var configuration = benchConfiguration(targets: targets)
    configuration.prometheus.url = url
    let client = PrometheusClient(configuration: .init(url: url, http: .init(timeout: .seconds(60))))
    let service = ReconcilerService(
        configuration: configuration, dependencies: .init(metrics: PrometheusMetricsSource(client: client)), clock: ContinuousClock(),
        logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
    await service.runPass()  // warm up: connections, state
    if options.passOnly {
        for _ in 0..<options.repeats {
            let cpu = cpuSeconds()
            let faults = minorFaults()
            await service.runPass()
            print(String(format: "pass %.1f ms %d faults", (cpuSeconds() - cpu) * 1000, minorFaults() - faults))
        }
        continue
    }

    // The same answers, for the engine and the decoder measured apart.
    let bodies = fixtureBodies(targets: targets)

    var walls: [Double] = []
    var cpus: [Double] = []
    var allocationCounts: [Double] = []
    var allocatedBytes: [Double] = []
    var engines: [Double] = []
    var engineAllocations: [Double] = []
    var decodes: [Double] = []
    for _ in 0..<options.repeats {
        let cpu = cpuSeconds()
        let allocated = allocations()
        let start = ContinuousClock.now
        let pass = await service.runPass()
        walls.append(seconds(start.duration(to: .now)))
        cpus.append(cpuSeconds() - cpu)
        allocationCounts.append(Double(allocations().count - allocated.count))
        allocatedBytes.append(Double(allocations().bytes - allocated.bytes))

        let decodeStart = cpuSeconds(thread: true)
        let responses = try decodedAnswers(bodies)
        decodes.append(cpuSeconds(thread: true) - decodeStart)

        let observations = observations(of: responses, at: pass.time)
        let engineStart = cpuSeconds(thread: true)
        let engineAllocated = allocations().count
        _ = service.engine.reconcile(state: pass.outcome.state, observations: observations, now: pass.time)
        engines.append(cpuSeconds(thread: true) - engineStart)
        engineAllocations.append(Double(allocations().count - engineAllocated))
    }
    print(
        String(
            format: "%d,%d,%.1f,%.1f,%.1f,%.0f,%.1f,%.1f,%.0f,%.1f,%.0f", targets, options.rules, median(walls) * 1000, median(cpus) * 1000,
            (cpus.min() ?? 0) * 1000, median(allocationCounts), median(allocatedBytes) / 1_048_576, median(engines) * 1000, median(engineAllocations),
            median(decodes) * 1000, peakRSSMiB()))
}
