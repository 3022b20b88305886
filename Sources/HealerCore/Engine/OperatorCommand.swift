#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// What an operator asks of Healer through the API, as a value: queued by the shell, applied by the engine at the
/// start of the next pass, each with its decision record.
public enum OperatorCommand: Sendable, Equatable {
    /// Stop remedies in `pool`, or everywhere when `nil`; returns and re-assertions go on.
    case pause(pool: String?)
    /// Lift the pause of `pool`, or every pause when `nil`.
    case resume(pool: String?)
    /// Give a quarantined server back through its rule's recovery, as a healthy streak would.
    case releaseQuarantine(TargetID)
}

extension Engine {
    /// `state` with `command` applied at `now`, and what was decided.
    public func apply(_ command: OperatorCommand, to state: EngineState, now: Date) -> (EngineState, [DecisionRecord]) {
        var state = state
        switch command {
        case .pause(let pool), .resume(let pool):
            let pause = if case .pause = command { true } else { false }
            if let pool {
                if pause { state.pause.pools.insert(pool) } else { state.pause.pools.remove(pool) }
            } else {
                state.pause.global = pause
                if !pause { state.pause.pools = [] }
            }
            return (state, [DecisionRecord(time: now, kind: .pool, pool: pool ?? "*", because: .operatorPaused(pause))])
        case .releaseQuarantine(let target):
            let (released, records, _) = releaseQuarantine(state: state, pool: target.pool, server: target.server, now: now)
            return (released, records)
        }
    }
}
