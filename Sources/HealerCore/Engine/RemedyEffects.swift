/// What ladder steps do to a server's balancer state, and how that is undone gradually.
enum RemedyEffects {
    /// The state steps `0...applied` of `ladder` leave a server in; `nil` when none changes the balancer.
    static func state(after applied: Int?, of ladder: [LadderStep]) -> DesiredServerState? {
        guard let applied else { return nil }
        var state: DesiredServerState?
        for step in ladder.prefix(applied + 1) {
            switch step.action {
            case .setWeight(let percent):
                state = (state ?? .normal).combined(with: DesiredServerState(weightPercent: percent))
            case .drain, .quarantine:
                state = (state ?? .normal).combined(with: DesiredServerState(admin: .drain))
            case .restart:
                break
            }
        }
        return state
    }

    /// The states to go through, one per ramp step, from `current` back to full weight and ready.
    ///
    /// A drained server first returns at `rampStart` % (or its lower weight); weight then doubles per step up to 100 %.
    /// Never one jump from drained to full weight.
    static func recoveryStages(from current: DesiredServerState?, rampStart: Int) -> [DesiredServerState] {
        guard let current, current != .normal else { return [] }
        var stages: [DesiredServerState] = []
        var weight = current.weightPercent
        if current.admin != .ready {
            weight = min(weight, max(1, rampStart))
            stages.append(DesiredServerState(weightPercent: weight, admin: .ready))
        }
        while weight < 100 {
            weight = min(100, max(weight * 2, weight + 1))
            stages.append(DesiredServerState(weightPercent: weight, admin: .ready))
        }
        return stages
    }
}
