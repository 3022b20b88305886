import Foundation
import HealerController
import HealerCore
import HealerHAProxy
import HealerTesting
import Testing

/// A planned drain and restart under steady load from `hey`: no client request may fail.
@Suite("Planned drain and restart, end to end", .serialized)
struct PlannedRestartTests {
    @Test func aLeakingServerIsDrainedRestartedAndGivenBackWithoutOneFailedRequest() async throws {
        let rule = RecoveryRule(
            name: "MemoryLeak", pool: "web", expression: "max by (server) (demo_leaked_bytes)", unhealthy: Threshold(.greater, 100e6),
            healthy: Threshold(.less, 1e6), pendingFor: .seconds(2), clearFor: .seconds(3), rampStep: .seconds(1),
            ladder: [
                LadderStep(.drain(waitSessions: .seconds(10)), verify: .seconds(2)),
                LadderStep(.restart(actuator: "restart-backend"), verify: .seconds(30)),
            ])
        try await TemporaryDirectory.with(prefix: "restart") { scratch in
            let demo = try BuiltProduct.path("demo-backend")
            let curl = try Executable.find("curl", package: "curl")
            defer {
                // The restarted backend is the script's child, not the harness's: stop it here.
                if let pid = try? String(contentsOfFile: scratch.path + "/s1.pid", encoding: .utf8),
                    let number = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines))
                {
                    kill(number, SIGTERM)
                }
            }
            let actuators: @Sendable (DemoBackends) -> [String: ActuatorSettings] = { backends in
                let script = """
                    #!/bin/sh
                    # restart-backend SERVER: crash the demo backend, start a new one on the same port.
                    case "$1" in
                    \(backends.instances.map { "  \($0.name)) PORT=\($0.port) ;;" }.joined(separator: "\n"))
                      *) echo "unknown server $1"; exit 2 ;;
                    esac
                    \(curl) -s -X POST "http://127.0.0.1:$PORT/crash"
                    for i in $(seq 1 50); do \(curl) -s -o /dev/null "http://127.0.0.1:$PORT/health" || break; sleep 0.1; done
                    nohup \(demo) --port "$PORT" --name "$1" > "\(scratch.path)/$1.log" 2>&1 &
                    echo $! > "\(scratch.path)/$1.pid"
                    for i in $(seq 1 100); do \(curl) -sf -o /dev/null "http://127.0.0.1:$PORT/health" && echo "restarted $1" && exit 0; sleep 0.1; done
                    echo "did not come back"; exit 1
                    """
                try? script.write(toFile: scratch.path + "/restart-backend", atomically: true, encoding: .utf8)
                return ["restart-backend": .exec(command: ["/bin/sh", scratch.path + "/restart-backend", "{{ .server }}"], timeout: .seconds(20))]
            }
            try await SystemFixture.run(rules: [rule], actuators: actuators, scrapeBackends: true) { system in
                try await waitUntil("every server judged healthy", timeout: .seconds(60)) {
                    let verdicts = system.service.lastPass?.outcome.verdicts ?? []
                    return verdicts.count == 3 && verdicts.allSatisfy { $0.verdict == .healthy }
                }
                let hey = try ManagedProcess.start(
                    .init(
                        name: "hey", executable: try Executable.find("hey", package: "hey"),
                        arguments: ["-z", "25s", "-c", "4", "-q", "25", system.haproxy.frontendURL + "/"], directory: scratch.path,
                        readiness: .immediately))
                defer { Task { await hey.stop() } }

                try await system.backends["s1"].setFault(["leak_mb": 512])
                try await waitUntil("the drain", timeout: .seconds(30)) { system.recorded("s1", .stepApplied, step: 0, action: .drain) }
                try await waitUntil("the restart", timeout: .seconds(30)) {
                    system.recorded("s1", .stepApplied, step: 1, action: .restart(actuator: "restart-backend"))
                }
                try await waitUntil("s1 back at full weight", timeout: .seconds(60)) {
                    let state = try await system.state(of: "s1")
                    return state.adminState == .ready && state.userWeight == 100 && system.recorded("s1", .recovered)
                }
                let restarted = try String(contentsOfFile: scratch.path + "/s1.log", encoding: .utf8)
                #expect(!restarted.isEmpty || FileManager.default.fileExists(atPath: scratch.path + "/s1.pid"))

                let status = try await eventually("hey to finish", timeout: .seconds(60)) { hey.exitStatus() }
                #expect(status == 0)
                let report = hey.logTail(lines: 200)
                let codes = report.split(separator: "\n").filter { $0.contains("responses") && $0.contains("[") }
                #expect(codes.count == 1 && codes.first?.contains("[200]") == true, "hey saw: \(codes)")
                #expect(!report.contains("Error distribution"), "hey reported errors:\n\(report)")
            }
        }
    }
}
