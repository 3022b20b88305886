import Synchronization

/// Asks the reconcile loop for a pass now instead of at its next slot: rung when this replica starts leading, so
/// that its first pass that could act (taking the shared state over) follows the election at once rather than up
/// to an interval later. Rings while nobody waits are remembered (once).
public final class PassTrigger: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    /// A trigger.
    public init() {}

    /// Wakes the waiting loop, or the next one to wait.
    public func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns `true` when rung (at once if rung since the last wait), `false` when the task is cancelled first.
    func wait() async -> Bool {
        state.withLock { $0.cancelled = false }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.rung || state.cancelled {
                        state.rung = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.cancelled = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
        return !Task.isCancelled
    }
}
