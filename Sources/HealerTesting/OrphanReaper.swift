import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Stops the services a crashed test run left behind.
///
/// ``ManagedProcess`` stops what it starts when a test returns or throws, but a test process that crashes
/// (a trap, a segmentation fault) runs no cleanup, and its children, each in its own process group, live on
/// and hold ports and CPU. So every started process group is recorded in a file named after the test process
/// and the group; the first start in a later test process stops the groups of test processes that are gone.
/// A group is only killed when its leader still runs the recorded executable (a reused id is left alone).
public enum OrphanReaper {
    /// Where the records are.
    public static let directory = NSTemporaryDirectory() + "healer-test-children"

    private static let reaped = Mutex(false)

    /// Records that this process started `group` running `executable`; stops orphans first, once per process.
    static func record(group: pid_t, executable: String) {
        let first = reaped.withLock { reaped in
            defer { reaped = true }
            return !reaped
        }
        if first { reapOrphans() }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? executable.write(toFile: path(owner: getpid(), group: group), atomically: true, encoding: .utf8)
    }

    /// Forgets `group` (it was stopped).
    static func forget(group: pid_t) {
        try? FileManager.default.removeItem(atPath: path(owner: getpid(), group: group))
    }

    /// Stops every recorded group whose test process is gone, and forgets it. Returns the groups stopped.
    @discardableResult
    public static func reapOrphans() -> [Int32] {
        var stopped: [Int32] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let parts = name.split(separator: ".").compactMap { pid_t($0) }
            guard parts.count == 2, !isAlive(parts[0]) else { continue }
            let file = directory + "/" + name
            let executable = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            if !executable.isEmpty, commandLine(of: parts[1]).first == executable {
                kill(-parts[1], SIGKILL)
                stopped.append(parts[1])
            }
            try? FileManager.default.removeItem(atPath: file)
        }
        return stopped
    }

    static func path(owner: pid_t, group: pid_t) -> String { directory + "/\(owner).\(group)" }

    private static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// The arguments of a running process, from `/proc`; empty when it is gone.
    static func commandLine(of pid: pid_t) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }
}
