import Foundation
import HealerTesting
import ProcessGroups
import Testing

/// What the exec actuator starts must not inherit Healer's blocked or ignored signals.
@Suite("Spawned processes and signals")
struct ProcessGroupSignalTests {
    /// The hexadecimal signal set named `field` (`SigBlk`, `SigIgn`) in `/proc/<pid>/status`.
    static func signalSet(_ field: String, of pid: Int32) throws -> UInt64? {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
        return UInt64(line.split(separator: "\t").last.map(String.init) ?? "", radix: 16)
    }

    @Test func aSpawnedChildStartsWithNoSignalBlockedOrIgnoredAndDiesOfSIGTERM() throws {
        // Spawn from a thread that blocks SIGTERM, SIGINT and SIGHUP, as a thread of Healer may, in a process that
        // ignores SIGUSR1 (nothing here uses it; it is restored at once).
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&blocked, signal) }
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let disposition = signal(SIGUSR1, SIG_IGN)
        let spawned = ProcessGroup.spawn(["sleep", "30"], output: .file("/dev/null"))
        signal(SIGUSR1, disposition)
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        let pid = try spawned.get()
        defer {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, WNOHANG)
        }
        #expect(try Self.signalSet("SigBlk", of: pid) == 0)
        // Signals 1–31 (glibc keeps its own real-time signals 32 and 33 ignored in a spawned child; no program uses them).
        let ignored = try Self.signalSet("SigIgn", of: pid).map { $0 & 0x7FFF_FFFF }
        #expect(ignored == 0, "SigIgn \(String(ignored ?? 0, radix: 16))")
        kill(pid, SIGTERM)
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        #expect(ProcessGroup.exitCode(fromWaitStatus: status) == 128 + SIGTERM)
    }

    /// A descriptor opened without close-on-exec (as NIO accepts client connections) must not reach the child:
    /// a restart script's long-lived backend would otherwise hold Healer's connections open.
    @Test func aSpawnedChildGetsOnlyStandardInputOutputAndError() async throws {
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)  // no O_CLOEXEC
        defer { ends.forEach { close($0) } }
        let pid = try ProcessGroup.spawn(["sleep", "30"], output: .file("/dev/null")).get()
        defer {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        // Right after exec the loader may hold a library open a moment: a leaked descriptor stays.
        try await waitUntil("the child to hold only descriptors 0, 1 and 2", timeout: .seconds(5)) {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap { Int32($0) }.sorted() == [0, 1, 2]
        }
    }
}
