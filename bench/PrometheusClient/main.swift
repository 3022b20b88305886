// Throughput of PrometheusClient: N instant queries at concurrency C against one Prometheus, each one
// sent, answered, and decoded into samples. Not a test: run by bench/query-throughput.sh.
//
//   bench-prometheus-client --url http://127.0.0.1:9090 --requests 4000 --concurrency 8 [--query up]
import Foundation
import HealerPrometheus

struct Arguments {
    var url = "http://127.0.0.1:9090"
    var requests = 2000
    var concurrency = 1
    var query = "up"

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { fatalError("\(flag) needs a value") }
            switch flag {
            case "--url": url = value
            case "--requests": requests = Int(value) ?? requests
            case "--concurrency": concurrency = Int(value) ?? concurrency
            case "--query": query = value
            default: fatalError("unknown flag \(flag)")
            }
        }
    }
}

let arguments = Arguments(CommandLine.arguments)
let client = PrometheusClient(configuration: PrometheusConfiguration(url: arguments.url))

// Warm up: connections and the server's caches.
for _ in 0..<50 { _ = try await client.query(arguments.query) }

let clock = ContinuousClock()
let start = clock.now
let perWorker = arguments.requests / arguments.concurrency
let failures = await withTaskGroup(of: Int.self) { group in
    for _ in 0..<arguments.concurrency {
        group.addTask {
            var failures = 0
            for _ in 0..<perWorker {
                do {
                    guard case .vector(let samples) = try await client.query(arguments.query).result, !samples.isEmpty else {
                        failures += 1
                        continue
                    }
                } catch {
                    failures += 1
                }
            }
            return failures
        }
    }
    var total = 0
    for await count in group { total += count }
    return total
}
let elapsed = start.duration(to: clock.now)
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let total = perWorker * arguments.concurrency
print(
    String(
        format: "requests=%d concurrency=%d failures=%d seconds=%.3f qps=%.1f", total, arguments.concurrency, failures, seconds,
        Double(total) / seconds))
