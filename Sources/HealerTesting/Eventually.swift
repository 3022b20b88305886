/// Polls `probe` until it returns a value, and returns that value; the only place tests wait.
///
/// - Parameters:
///   - what: what is awaited, for the error message.
///   - timeout: the deadline; a generous one, since it bounds a failure, not a success.
///   - interval: the pause between probes.
///   - probe: returns `nil` (or throws) while the condition is not met yet. A ``HarnessError`` it throws
///     is final (a process died, a binary is missing) and ends the wait at once.
/// - Throws: ``HarnessError/timedOut(what:after:lastError:)`` with the last error the probe threw.
public func eventually<T>(
    _ what: String,
    timeout: Duration = .seconds(30),
    interval: Duration = .milliseconds(25),
    _ probe: () async throws -> T?
) async throws -> T {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    var lastError: String?
    while true {
        try Task.checkCancellation()
        do {
            if let value = try await probe() { return value }
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HarnessError {
            throw error
        } catch {
            lastError = String(describing: error)
        }
        guard clock.now < deadline else { throw HarnessError.timedOut(what: what, after: timeout, lastError: lastError) }
        try await Task.sleep(for: interval)
    }
}

/// Polls `condition` until it holds. See ``eventually(_:timeout:interval:_:)-(_,_,_,()->T?)``.
public func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(30),
    interval: Duration = .milliseconds(25),
    _ condition: () async throws -> Bool
) async throws {
    _ = try await eventually(what, timeout: timeout, interval: interval) { try await condition() ? true : nil }
}
