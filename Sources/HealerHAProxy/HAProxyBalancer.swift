public import HealerCore

/// The balancer driver for one HAProxy: reads its pools through the runtime API and applies desired states as a
/// diff, verifying every write by reading it back.
///
/// When HAProxy cannot be reached it backs off (1 s, 2 s, 4 s … 30 s) and reports its pools unreachable, so
/// that the engine changes nothing it cannot see. A reload (new worker pid, or uptime going down) is detected
/// and reported; the next apply re-asserts every managed server, since the new worker starts from the
/// configuration.
public actor HAProxyBalancer: Balancer {
    /// The balancer's name in the configuration.
    public let name: String
    private let client: RuntimeClient
    private let pools: [PoolSettings]
    private var servers: [TargetID: ServerRuntimeState] = [:]
    private var lastPid: String?
    private var lastUptime: Int?
    private var failures = 0
    private var retryAt: ContinuousClock.Instant?
    private var lastError = ""

    /// Creates a driver for the pools that sit behind this HAProxy.
    public init(name: String, client: RuntimeClient, pools: [PoolSettings]) {
        self.name = name
        self.client = client
        self.pools = pools.sorted { $0.name < $1.name }
    }

    public func observe() async -> BalancerObservation {
        if let retryAt, ContinuousClock.now < retryAt {
            return unreachable("\(lastError) (retrying in \(ContinuousClock.now.duration(to: retryAt).components.seconds + 1)s)")
        }
        do {
            var observation = BalancerObservation()
            let info = RuntimeParsers.info(try await client.execute(.showInfo))
            let pid = info["Pid"]
            let uptime = info["Uptime_sec"].flatMap { Int($0) }
            if let lastPid, let pid, pid != lastPid { observation.reloaded = true }
            if let lastUptime, let uptime, uptime < lastUptime { observation.reloaded = true }
            lastPid = pid
            lastUptime = uptime
            var seen: [TargetID: ServerRuntimeState] = [:]
            for pool in pools {
                let states = try RuntimeParsers.serversState(try await client.execute(.showServersState(backend: pool.backend)))
                let stat = try RuntimeParsers.stat(try await client.execute(.showStat(backend: pool.backend)))
                let sessions = Dictionary(stat.compactMap { row in row["svname"].map { ($0, Int(row["scur"] ?? "") ?? 0) } }) { first, _ in first }
                observation.inventory[pool.name] = states.map {
                    ServerInfo(server: $0.server, configuredWeight: $0.initialWeight, isSpare: pool.spares.contains($0.server))
                }
                for state in states {
                    let target = TargetID(pool: pool.name, server: state.server)
                    seen[target] = state
                    observation.sessions[target] = sessions[state.server] ?? 0
                    observation.current[target] = Self.desired(from: state)
                    if !state.isRunning { observation.down.insert(target) }
                }
            }
            servers = seen
            failures = 0
            retryAt = nil
            return observation
        } catch {
            failures += 1
            lastError = error.description
            retryAt = ContinuousClock.now.advanced(by: .seconds(min(30, 1 << min(failures - 1, 5))))
            return unreachable(error.description)
        }
    }

    public func apply(_ desired: [TargetID: DesiredServerState]) async -> [TargetID: ActionOutcome] {
        var outcomes: [TargetID: ActionOutcome] = [:]
        let backends = Dictionary(uniqueKeysWithValues: pools.map { ($0.name, $0.backend) })
        for (target, want) in desired.sorted(by: { $0.key < $1.key }) {
            guard let backend = backends[target.pool] else { continue }
            if retryAt != nil {
                outcomes[target] = .failed(.unreachable, detail: "HAProxy \(name) unreachable: \(lastError)")
                continue
            }
            guard let current = servers[target] else {
                outcomes[target] = .failed(.noSuchServer, detail: "no server \(target.server) in backend \(backend)")
                continue
            }
            outcomes[target] = await apply(want, to: current, target: target, backend: backend)
        }
        return outcomes
    }

    private func apply(_ want: DesiredServerState, to current: ServerRuntimeState, target: TargetID, backend: String) async -> ActionOutcome {
        let weight = Self.weight(for: want.weightPercent, initial: current.initialWeight)
        var changes: [String] = []
        do {
            if current.userWeight != weight {
                _ = try await client.execute(.setWeight(backend: backend, server: target.server, weight: weight))
                changes.append("weight \(current.userWeight) → \(weight) of \(current.initialWeight)")
            }
            if current.adminState != want.admin {
                _ = try await client.execute(.setState(backend: backend, server: target.server, state: want.admin))
                changes.append("state \(current.adminState.rawValue) → \(want.admin.rawValue)")
            }
            guard !changes.isEmpty else { return ActionOutcome(.unchanged, detail: "already \(want)") }
            let after = try RuntimeParsers.serversState(try await client.execute(.showServersState(backend: backend)))
            guard let readBack = after.first(where: { $0.server == target.server }) else {
                throw HAProxyError.notApplied(target: "\(backend)/\(target.server)", expected: "\(want)", actual: "server gone")
            }
            servers[target] = readBack
            guard readBack.userWeight == weight, readBack.adminState == want.admin else {
                throw HAProxyError.notApplied(
                    target: "\(backend)/\(target.server)", expected: "weight \(weight), \(want.admin.rawValue)",
                    actual: "weight \(readBack.userWeight), \(readBack.adminState.rawValue)")
            }
            return ActionOutcome(.success, detail: changes.joined(separator: ", "))
        } catch let error as HAProxyError {
            return .failed(error.failure, detail: error.description)
        } catch is CancellationError {
            return .failed(.cancelled, detail: "cancelled")
        } catch {
            return .failed(.notApplied, detail: "\(error)")
        }
    }

    private func unreachable(_ reason: String) -> BalancerObservation {
        BalancerObservation(unreachable: Dictionary(uniqueKeysWithValues: pools.map { ($0.name, "HAProxy \(name): \(reason)") }))
    }

    /// The absolute weight for `percent` of `initial` (never 0 unless asked: a weight rounding to 0 would take
    /// the server out of rotation).
    public static func weight(for percent: Int, initial: Int) -> Int {
        guard percent > 0 else { return 0 }
        return min(256, max(1, Int((Double(initial) * Double(percent) / 100).rounded())))
    }

    static func desired(from state: ServerRuntimeState) -> DesiredServerState {
        let percent = state.initialWeight > 0 ? Int((Double(state.userWeight) * 100 / Double(state.initialWeight)).rounded()) : 0
        return DesiredServerState(weightPercent: percent, admin: state.adminState)
    }
}
