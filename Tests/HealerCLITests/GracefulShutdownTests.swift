import CurlHTTP
import Foundation
import HealerTesting
import Synchronization
import Testing

/// `healer run` as a process: SIGTERM during a pass lets the pass finish, keeps /metrics up, and exits 0.
@Suite("healer run, graceful shutdown")
struct GracefulShutdownTests {
    @Test func sigtermDuringAPassFinishesItAndExitsZero() async throws {
        let healer = try BuiltProduct.path("healer")
        @Sendable func answer(_ s1: String) -> String {
            #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"server":"s1"},"value":[1795726808.818,""# + s1
                + #""]},{"metric":{"server":"s2"},"value":[1795726808.818,"0"]},{"metric":{"server":"s3"},"value":[1795726808.818,"0"]}]}}"#
        }
        let queries = Mutex(0)
        // The second pass's answer waits until the test has sent SIGTERM and read /metrics: that pass is in flight for
        // as long as the test takes, however late a loaded machine lets it act (a pass that had finished would let
        // Healer stop at once, /metrics with it). The first pass sees every server healthy, the second s1 unhealthy:
        // a "firing" decision can only come from the second.
        let secondAnswer = DispatchSemaphore(value: 0)
        defer { secondAnswer.signal() }
        try await ScriptedHTTPServer.with({ request in
            guard request.path == "/api/v1/query" else { return .text("ok") }
            // The rule's freshness query (its data is fresh: no series) is not counted.
            guard request.formFields["query"] == "error_ratio" else {
                return .json(#"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
            }
            let number = queries.withLock { count in
                count += 1
                return count
            }
            if number == 2 { _ = secondAnswer.wait(timeout: .now() + 60) }
            return .json(answer(number == 1 ? "0" : "0.3"))
        }) { prometheus in
            try await TemporaryDirectory.with(prefix: "sigterm") { directory in
                let port = try FreePort.next()
                try FileManager.default.createDirectory(atPath: directory.path + "/rules", withIntermediateDirectories: true)
                try directory.write(
                    "healer.yaml",
                    """
                    prometheus: { url: "\(prometheus.url)", timeout: 90s }
                    balancers: { edge: { haproxy: { runtime_api: "tcp://127.0.0.1:1" } } }
                    pools:
                      web: { balancer: edge, backend: be_app, servers: [s1, s2, s3] }
                    rules: ["rules/*.yaml"]
                    reconcile: { interval: 1s }
                    safety: { dry_run: true }
                    server: { listen: "127.0.0.1:\(port)" }
                    """)
                try directory.write(
                    "rules/web.yaml",
                    """
                    groups:
                      - name: web
                        pool: web
                        rules:
                          - { name: Errors, expr: error_ratio, unhealthy: "> 0.05", healthy: "< 0.01", ladder: [{ quarantine: {} }] }
                    """)
                let process = try ManagedProcess.start(
                    .init(
                        name: "healer", executable: healer, arguments: ["run", "--config", directory.path + "/healer.yaml"],
                        directory: directory.path,
                        readiness: .http(url: "http://127.0.0.1:\(port)/healthz")))
                do {
                    try await process.waitUntilReady()
                    // Wait for a pass to be in flight, then ask the process to stop.
                    try await waitUntil("the second pass in flight") { queries.withLock { $0 } >= 2 }
                    kill(process.pid, SIGTERM)
                    let metrics = try await HTTPClient().get("http://127.0.0.1:\(port)/metrics")
                    #expect(metrics.status == 200)  // /metrics answers until the end
                    secondAnswer.signal()
                    let status = try await eventually("healer to exit", timeout: .seconds(30)) { process.exitStatus() }
                    #expect(status == 0)
                    let log = process.logTail(lines: 400)
                    #expect(log.contains("healer stopped"))
                    // The pass in flight when SIGTERM came finished: its decisions are in the log, and no pass started after it.
                    #expect(log.contains("firing: unhealthy"), "\(log)")
                    #expect(queries.withLock { $0 } == 2)
                } catch {
                    secondAnswer.signal()
                    await process.stop()
                    Issue.record("healer's log: \(process.logTail(lines: 200))")
                    throw error
                }
            }
        }
    }
}
