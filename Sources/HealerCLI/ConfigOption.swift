import ArgumentParser
import HealerCore
import HealerRules

/// `--config FILE`, shared by the commands that read `healer.yaml`.
struct ConfigOption: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("The configuration file (env HEALER_CONFIG).", valueName: "file"))
    var path: String = Environment.value("HEALER_CONFIG") ?? "healer.yaml"

    /// Loads it, or prints every error (one per line, with file and line) and exits 1.
    func load() throws -> HealerConfiguration {
        do {
            return try ConfigurationLoader.load(path: path)
        } catch {
            for problem in error.errors { Output.error(problem.description) }
            Output.error("healer: \(path): \(error.errors.count) problem\(error.errors.count == 1 ? "" : "s"); nothing loaded")
            throw ExitCode.failure
        }
    }
}
