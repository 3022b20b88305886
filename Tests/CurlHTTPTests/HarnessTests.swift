import Foundation
import HealerTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

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
                    name: "stubborn", executable: shell,
                    arguments: ["-c", "trap '' TERM; touch \(directory.path)/trapped; while :; do sleep 1; done"],
                    directory: directory.path, readiness: .immediately))
            // Children start with no signal blocked or ignored: SIGTERM is ignored only once the trap is set.
            try await waitUntil("the trap to be set") { FileManager.default.fileExists(atPath: directory.path + "/trapped") }
            #expect(process.exitStatus() == nil)
            await process.stop(grace: .milliseconds(300))
            let status = process.exitStatus()
            #expect(status == 137)  // 128 + SIGKILL
        }
    }

    /// A crashed test process cleans nothing up: its services are stopped by the next test process.
    @Test func servicesOfATestProcessThatIsGoneAreStopped() async throws {
        try await TemporaryDirectory.with(prefix: "harness") { directory in
            let shell = try Executable.find("sh", package: "dash")
            let orphan = try ManagedProcess.start(
                .init(name: "orphan", executable: shell, arguments: ["-c", "sleep 300"], directory: directory.path, readiness: .immediately))
            defer { kill(-orphan.pid, SIGKILL) }
            // Make its record look like one left by a test process that has exited.
            let gone = try ManagedProcess.start(
                .init(name: "gone", executable: shell, arguments: ["-c", "exit 0"], directory: directory.path, readiness: .immediately))
            try await waitUntil("the short-lived process to exit", timeout: .seconds(10)) { gone.exitStatus() != nil }
            let record = OrphanReaper.directory + "/\(getpid()).\(orphan.pid)"
            try FileManager.default.moveItem(atPath: record, toPath: OrphanReaper.directory + "/\(gone.pid).\(orphan.pid)")

            #expect(OrphanReaper.reapOrphans().contains(orphan.pid))
            try await waitUntil("the orphan to be killed", timeout: .seconds(10)) { orphan.exitStatus() != nil }
            #expect(orphan.exitStatus() == 137)
            #expect(!FileManager.default.fileExists(atPath: OrphanReaper.directory + "/\(gone.pid).\(orphan.pid)"))
        }
    }
}
