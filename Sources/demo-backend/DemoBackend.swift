import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Prometheus

/// `demo-backend`: an HTTP server for demos, tests and benchmarks, with a fault switch.
///
/// - `GET /` does a little work and answers 200 with its name in the body (or fails, slows down or hangs, as the fault says)
/// - `GET /health` answers 200 unless `fail_health` is set: gray failures stay invisible to health checks
/// - `GET /metrics` exposes `demo_requests_total{code}` and `demo_request_duration_seconds`
/// - `POST /fault` with `{"error_ratio":0.3,"latency_ms":300,"hang":false,"fail_health":false,"leak_mb":512}`; `DELETE /fault` clears it
/// - `POST /crash` exits at once with status 1, as a crashing process would
@main
struct DemoBackend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-backend", abstract: "An HTTP backend with a fault switch, for Healer's demos, tests and benchmarks.")

    @Option(help: "Port on 127.0.0.1.")
    var port: Int = 8081

    @Option(help: "Host to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "Name returned in bodies and the X-Server header.")
    var name: String = "demo"

    func run() async throws {
        let fault = FaultSwitch()
        let registry = PrometheusCollectorRegistry()
        let requests = MetricNameDescriptor(
            namespace: "demo", metricName: "requests", unitName: "total", helpText: "Requests to / by status code.")
        let ok = registry.makeCounter(descriptor: requests, labels: [("code", "200")])
        let failed = registry.makeCounter(descriptor: requests, labels: [("code", "500")])
        let duration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "demo", metricName: "request_duration", unitName: "seconds", helpText: "Time to answer /."),
            buckets: [
                .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
            ])
        let leaked = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "demo", metricName: "leaked", unitName: "bytes", helpText: "Memory the fault pretends leaked."))
        let name = self.name

        let router = Router()
        router.get("/") { _, _ -> Response in
            let started = ContinuousClock.now
            let current = fault.current
            if current.hang { try await Task.sleep(for: .seconds(3600)) }
            if current.latencyMilliseconds > 0 { try await Task.sleep(for: .milliseconds(current.latencyMilliseconds)) }
            var work: UInt64 = 1469598103934665603  // a little CPU per request
            for byte in name.utf8 { work = (work ^ UInt64(byte)) &* 1099511628211 }
            let fail = current.errorRatio > 0 && Double.random(in: 0..<1) < current.errorRatio
            duration.record(started.duration(to: .now))
            (fail ? failed : ok).increment()
            return Response(
                status: fail ? .internalServerError : .ok, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: fail ? "injected failure from \(name)\n" : "ok from \(name) \(work % 1000)\n")))
        }
        router.get("/health") { _, _ -> HTTPResponse.Status in fault.current.failHealth ? .serviceUnavailable : .ok }
        router.get("/metrics") { _, _ -> Response in
            leaked.set(to: fault.current.leakMebibytes * 1_048_576)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/fault") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: Array(try JSONEncoder().encode(fault.current)))))
        }
        router.post("/fault") { request, context -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let new = try? JSONDecoder().decode(Fault.self, from: Data(body.readableBytesView)) else {
                throw HTTPError(.badRequest, message: "expected JSON like {\"error_ratio\":0.3}")
            }
            fault.set(new)
            context.logger.info("fault set", metadata: ["fault": "\(new)"])
            return .noContent
        }
        router.delete("/fault") { _, _ -> HTTPResponse.Status in
            fault.set(Fault())
            return .noContent
        }
        router.post("/crash") { _, _ -> HTTPResponse.Status in
            Foundation.exit(1)
        }
        var logger = Logger(label: "demo-backend")
        logger.logLevel = .notice
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "demo-backend"), logger: logger)
        try await app.runService()
    }
}
