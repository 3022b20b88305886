import CSpawn

#if canImport(Glibc)
    import Glibc
#endif

/// Starting a program in a process group of its own, so that it and everything it forks can be stopped
/// together (`kill(-pid, …)`), and reading how it ended. Used by the exec actuator and the test harness.
public enum ProcessGroup {
    /// Where the child's standard output and standard error go (standard input is `/dev/null`).
    public enum Output: Sendable {
        /// Into this open descriptor (a pipe's write end); the descriptors in `closeInChild` are closed in the child.
        case descriptor(Int32, closeInChild: [Int32])
        /// Into this file, created or truncated.
        case file(String)
    }

    /// Starts `argv` in a new process group; a program name without a `/` is looked up in `PATH`.
    ///
    /// The child starts with no signal blocked and every signal at its default disposition, whatever the spawning
    /// thread had: a backend that a restart script launches must die of SIGTERM like any other process. It gets
    /// standard input, output and error and no other descriptor of Healer's.
    ///
    /// - Returns: the process id, which is also the group's id.
    public static func spawn(_ argv: [String], output: Output) -> Result<Int32, SpawnError> {
        guard let program = argv.first else { return .failure(SpawnError(code: EINVAL)) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        switch output {
        case .descriptor(let descriptor, let closeInChild):
            posix_spawn_file_actions_adddup2(&actions, descriptor, 1)
            posix_spawn_file_actions_adddup2(&actions, descriptor, 2)
            for other in closeInChild { posix_spawn_file_actions_addclose(&actions, other) }
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // Nothing else of Healer's reaches the child: descriptors other libraries open without close-on-exec
        // (NIO accepts client connections so) would keep those connections open for as long as the child and
        // whatever it starts live.
        healer_spawn_addclosefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var every = sigset_t()
        sigfillset(&every)
        sigdelset(&every, SIGKILL)
        sigdelset(&every, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &every)

        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let status =
            program.contains("/")
            ? posix_spawn(&pid, program, &actions, &attributes, &cArguments, environ)
            : posix_spawnp(&pid, program, &actions, &attributes, &cArguments, environ)
        return status == 0 ? .success(pid) : .failure(SpawnError(code: status))
    }

    /// The exit code of a `waitpid` status, or 128 + the signal number for a killed process (as shells report it).
    public static func exitCode(fromWaitStatus status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}

/// Why a program could not be started.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    /// The `errno` value.
    public var code: Int32

    public var description: String { String(cString: strerror(code)) }
}
