import Dispatch
import Foundation
public import HealerCore
import ProcessGroups

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program for an action: argv templated from the action's context, no shell (write
/// `["/bin/sh", "-c", "…"]` to ask for one), a timeout after which the program's process group is killed, and
/// the exit code with the end of its output (at most 4 KiB) in the outcome.
public struct ExecActuator: Sendable {
    /// The program and its arguments, with `{{ .server }}`-style placeholders.
    public let command: [String]
    /// How long it may run.
    public let timeout: Duration
    /// Whether a value starting with `-` may be substituted (it would read as an option).
    public let allowLeadingDash: Bool

    private static let queue = DispatchQueue(label: "healer.exec", attributes: .concurrent)
    static let outputLimit = 4096

    /// Creates the actuator.
    public init(command: [String], timeout: Duration, allowLeadingDash: Bool = false) {
        self.command = command
        self.timeout = timeout
        self.allowLeadingDash = allowLeadingDash
    }

    /// Runs the command for `context`. Values come from series labels, which anyone who writes into Prometheus
    /// chooses: one that would read as an option is refused, and a shell script with placeholders never runs.
    public func run(_ context: ActionContext) async -> ActionOutcome {
        if let problem = ExecTemplate.problem(in: command) { return .failed(.unsafeInput, detail: problem) }
        let values = context.values
        if !allowLeadingDash {
            for name in command.flatMap(ExecTemplate.placeholders) {
                guard let value = values[name], value.hasPrefix("-") else { continue }
                return .failed(
                    .unsafeInput,
                    detail: "\(name) \"\(value)\" starts with \"-\" and would read as an option (allow_leading_dash: true allows it)")
            }
        }
        let argv = command.map(context.render)
        let timeout = self.timeout
        return await withCheckedContinuation { continuation in
            Self.queue.async { continuation.resume(returning: Self.blockingRun(argv, timeout: timeout)) }
        }
    }

    private static func blockingRun(_ argv: [String], timeout: Duration) -> ActionOutcome {
        guard let program = argv.first else { return .failed(.cannotStart, detail: "empty command") }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { return .failed(.cannotStart, detail: "pipe: \(String(cString: strerror(errno)))") }
        let (reader, writer) = (pipeEnds[0], pipeEnds[1])
        let started = ProcessGroup.spawn(argv, output: .descriptor(writer, closeInChild: [reader, writer]))
        close(writer)
        let pid: Int32
        switch started {
        case .success(let spawned): pid = spawned
        case .failure(let error):
            close(reader)
            return .failed(.cannotStart, detail: "cannot start \(program): \(error)")
        }
        _ = fcntl(reader, F_SETFL, fcntl(reader, F_GETFL) | O_NONBLOCK)

        let deadline = ContinuousClock.now.advanced(by: timeout)
        var output: [UInt8] = []
        var status: Int32 = 0
        var exited = false
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !exited {
            var entry = pollfd(fd: reader, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, 20)
            while true {
                let count = read(reader, &buffer, buffer.count)
                guard count > 0 else { break }
                output += buffer[0..<count]
                if output.count > outputLimit * 2 { output.removeFirst(output.count - outputLimit) }
            }
            if waitpid(pid, &status, WNOHANG) == pid {
                exited = true
            } else if ContinuousClock.now >= deadline, !timedOut {
                timedOut = true
                kill(-pid, SIGTERM)
                let grace = ContinuousClock.now.advanced(by: .seconds(2))
                while waitpid(pid, &status, WNOHANG) != pid {
                    if ContinuousClock.now >= grace {
                        kill(-pid, SIGKILL)
                        waitpid(pid, &status, 0)
                        break
                    }
                    usleep(10_000)
                }
                exited = true
            }
        }
        while true {
            let count = read(reader, &buffer, buffer.count)
            guard count > 0 else { break }
            output += buffer[0..<count]
        }
        close(reader)
        let text = String(decoding: output.suffix(outputLimit), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if timedOut { return .failed(.timedOut, detail: "timed out after \(timeout), killed" + (text.isEmpty ? "" : ": \(text)")) }
        let code = ProcessGroup.exitCode(fromWaitStatus: status)
        let detail = "exit \(code)" + (text.isEmpty ? "" : ": \(text)")
        return code == 0 ? ActionOutcome(.success, detail: detail) : .failed(.exitStatus, detail: detail)
    }
}
