public import ArgumentParser

/// `healer`: the self-healing controller's command line.
public struct HealerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "healer",
        abstract: "A self-healing controller for servers behind a load balancer, driven by Prometheus.",
        discussion: """
            Healer reads health from Prometheus, judges every backend server healthy, unhealthy or unknown, and
            repairs what is broken with the least force that works.

            Exit codes: 0 success, 1 the command failed (the message says why), 64 a usage error.
            """,
        version: BuildInfo.summary,
        subcommands: [
            RunCommand.self, CheckCommand.self, StatusCommand.self, DecisionsCommand.self, QueryCommand.self, StateCommand.self, VersionCommand.self,
        ]
    )

    public init() {}
}
