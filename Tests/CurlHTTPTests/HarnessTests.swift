import HealerTesting
import Testing

@Suite("The test harness itself")
struct HarnessTests {
    @Test func aMissingBinaryIsAFailureThatNamesThePackage() {
        let error = #expect(throws: HarnessError.self) { try Executable.find("healer-no-such-binary", package: "healer-demo") }
        #expect(error?.description.contains("scripts/setup") == true)
        #expect(error?.description.contains("healer-demo") == true)
    }

    @Test func aProcessThatDiesEarlyFailsReadinessAtOnceWithItsLog() async throws {
        try await TemporaryDirectory.with(prefix: "harness") { directory in
            let shell = try Executable.find("sh", package: "dash")
            let specification = ManagedProcess.Specification(
                name: "dies", executable: shell, arguments: ["-c", "echo boom; exit 3"], directory: directory.path,
                readiness: .tcp(port: try FreePort.next()))
            let error = await #expect(throws: HarnessError.self) {
                try await ManagedProcess.withRunning(specification) { _ in }
            }
            guard case .exitedEarly(_, let status, let log) = error else { Issue.record("unexpected \(String(describing: error))"); return }
            #expect(status == 3)
            #expect(log.contains("boom"))
        }
    }

    @Test func stopEndsAProcessThatIgnoresSIGTERM() async throws {
        try await TemporaryDirectory.with(prefix: "harness") { directory in
            let shell = try Executable.find("sh", package: "dash")
            let process = try ManagedProcess.start(
                .init(
                    name: "stubborn", executable: shell, arguments: ["-c", "trap '' TERM; while :; do sleep 1; done"],
                    directory: directory.path, readiness: .immediately))
            #expect(process.exitStatus() == nil)
            await process.stop(grace: .milliseconds(300))
            let status = process.exitStatus()
            #expect(status == 137)  // 128 + SIGKILL
        }
    }
}
