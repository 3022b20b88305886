public import Logging
public import ServiceLifecycle
import UnixSignals

/// Reloads the configuration on SIGHUP, until graceful shutdown.
public struct ReloadOnSignal: Service {
    private let api: ControllerAPI
    private let logger: Logger

    /// Creates the service.
    public init(api: ControllerAPI, logger: Logger) {
        self.api = api
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            if let failure = api.reload() {
                logger.error("reload failed; the previous configuration stays in force", metadata: ["errors": "\(failure)"])
            } else {
                logger.notice("configuration reloaded")
            }
        }
    }
}
