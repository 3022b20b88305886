import Foundation
public import HealerCore
public import HealerKubernetes
public import Logging
public import ServiceLifecycle
import Synchronization

/// Leader election on a `coordination.k8s.io/v1` Lease, with client-go's semantics: try to acquire or renew every
/// retry period (jittered while following); a holder's lease is judged expired by the local monotonic clock,
/// `lease duration` after its last renewal was *seen* (clock skew between nodes does not matter); every write
/// names the `resourceVersion` it read (409: someone else wrote first, this round is lost); a leader that could not
/// renew within the renew deadline stops leading — so that a leader paused past its lease (SIGSTOP, a frozen VM)
/// acts on nothing when it resumes; the lease is released on graceful shutdown so another replica leads at once.
public final class LeaseElector: LeaderElector, Service {
    /// Timing and identity.
    public struct Settings: Sendable, Equatable {
        /// The Lease's name and namespace.
        public var name: String
        public var namespace: String
        /// This replica's identity (its pod name in a cluster).
        public var identity: String
        /// How long a lease lasts without renewal: 15 s.
        public var leaseDuration: Duration
        /// How long a leader keeps leading without a successful renewal: 10 s.
        public var renewDeadline: Duration
        /// How often it tries: 2 s.
        public var retryPeriod: Duration
        /// Where this replica serves its API, named in its terms so that followers can forward alerts to it.
        public var url: String?

        /// Settings; client-go's checks hold: `leaseDuration > renewDeadline > 1.2 × retryPeriod`.
        public init(
            name: String, namespace: String, identity: String, leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10),
            retryPeriod: Duration = .seconds(2), url: String? = nil
        ) {
            self.url = url
            self.name = name
            self.namespace = namespace
            self.identity = identity
            self.leaseDuration = leaseDuration
            self.renewDeadline = renewDeadline
            self.retryPeriod = retryPeriod
        }

        /// Why the timings cannot work, or `nil`.
        public var problem: String? {
            HASettings.timingProblem(leaseDuration: leaseDuration, renewDeadline: renewDeadline, retryPeriod: retryPeriod)
        }
    }

    private struct State {
        /// The lease as last read or written.
        var lease: Lease?
        /// When its record last changed, by the local monotonic clock.
        var observedAt: ContinuousClock.Instant?
        /// When this replica last acquired or renewed it.
        var renewedAt: ContinuousClock.Instant?
        var leading = false
    }

    /// The settings.
    public let settings: Settings
    private let client: KubernetesClient
    private let clock = ContinuousClock()
    /// The monotonic clock every judgement reads (tests move it by hand).
    private let monotonicNow: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex(State())
    private let logger: Logger
    private let transitions: (@Sendable (_ leading: Bool, _ holder: String?) -> Void)?
    private let firstEpoch: (@Sendable () async -> Int?)?

    /// An elector using `client`; `onTransition` hears every change of leadership.
    ///
    /// - Parameter firstEpoch: the `leaseTransitions` to create the Lease with when there is none (deleted, renamed,
    ///   a new namespace): above every epoch that fenced the shared state, so that the new Lease's terms are later
    ///   than the old one's; `nil` from it skips the round (the state could not be read). Without it: 0.
    public init(
        settings: Settings, client: KubernetesClient, logger: Logger = Logger(label: "healer.election"),
        onTransition: (@Sendable (_ leading: Bool, _ holder: String?) -> Void)? = nil,
        firstEpoch: (@Sendable () async -> Int?)? = nil,
        monotonicNow: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.firstEpoch = firstEpoch
        self.monotonicNow = monotonicNow
        self.settings = settings
        self.client = client
        self.logger = logger
        self.transitions = onTransition
    }

    /// Leading, and renewed within the renew deadline by the monotonic clock: checked once per pass and before
    /// every write that changes the world.
    public func isLeader() async -> Bool {
        let now = monotonicNow()
        return state.withLock { state in state.leading && state.renewedAt.map { now - $0 < settings.renewDeadline } ?? false }
    }

    /// The holder the lease last showed (this replica's identity when it leads).
    public var holder: String? { state.withLock { $0.lease?.spec.holderIdentity } }

    /// The lease's transitions as last seen: the epoch of the current leadership.
    public var epoch: Int? { state.withLock { $0.lease?.spec.leaseTransitions } }

    /// This replica's term while it leads (by the same monotonic check as ``isLeader()``), else `nil`.
    public func term() async -> LeaderTerm? {
        let now = monotonicNow()
        return state.withLock { state in
            guard state.leading, state.renewedAt.map({ now - $0 < settings.renewDeadline }) ?? false, let lease = state.lease else { return nil }
            return LeaderTerm(epoch: lease.spec.leaseTransitions ?? 0, holder: settings.identity, url: settings.url)
        }
    }

    /// Tries every retry period until graceful shutdown, then releases the lease if it holds it.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [self] in
                while !Task.isCancelled {
                    await tryAcquireOrRenew()
                    try await clock.sleep(for: await nextRoundDelay())
                }
            }
        } catch {}
        if Task.isShuttingDownGracefully { await release() }
    }

    /// How long to wait before the next round: the retry period while leading; while following, client-go's jittered
    /// retry period (×1 to ×2.2), but no longer than until the holder's lease runs out by this replica's clock (plus up
    /// to 0.1 s, jittered, to spread candidates out), so that a dead leader is succeeded as soon as its lease allows,
    /// not up to a retry period later. The expiry is judged exactly as ``tryAcquireOrRenew()`` judges it.
    public func nextRoundDelay() async -> Duration {
        if await isLeader() { return settings.retryPeriod }
        let jittered = settings.retryPeriod * (1 + Double.random(in: 0...1.2))
        let now = monotonicNow()
        let remaining = state.withLock { state -> Duration? in
            guard let lease = state.lease, let observed = state.observedAt, !(lease.spec.holderIdentity ?? "").isEmpty,
                lease.spec.holderIdentity != settings.identity
            else { return nil }
            return observed + .seconds(lease.spec.leaseDurationSeconds ?? Self.seconds(settings.leaseDuration)) - now
        }
        // Already expired (this round failed: a conflict, the API unreachable): no faster than client-go.
        guard let remaining, remaining > .zero else { return jittered }
        return min(jittered, remaining + .milliseconds(Int.random(in: 10...100)))
    }

    /// One round of client-go's `tryAcquireOrRenew`; returns whether this replica leads after it.
    @discardableResult
    public func tryAcquireOrRenew() async -> Bool {
        // Renewed as of when the round began, not when its answer came back: the write may have taken effect (and
        // been seen by another replica, starting its clock) any time in between.
        let started = monotonicNow()
        let now = Date()
        let mine = settings.identity
        do throws(KubernetesError) {
            let current: Lease
            do {
                current = try await client.lease(settings.name, namespace: settings.namespace)
            } catch  where error.code == 404 {
                let first: Int? = if let firstEpoch { await firstEpoch() } else { 0 }
                guard let transitions = first else { return false }
                let created = try await client.createLease(
                    Lease(
                        metadata: .init(name: settings.name, namespace: settings.namespace),
                        spec: .init(
                            holderIdentity: mine, leaseDurationSeconds: Self.seconds(settings.leaseDuration), acquireTime: KubernetesTime.micro(now),
                            renewTime: KubernetesTime.micro(now), leaseTransitions: transitions)))
                succeeded(created, startedAt: started)
                return true
            }
            let observedAt = state.withLock { state -> ContinuousClock.Instant in
                if state.lease?.spec != current.spec || state.observedAt == nil {
                    state.observedAt = monotonicNow()
                }
                state.lease = current
                return state.observedAt ?? monotonicNow()
            }
            let holder = current.spec.holderIdentity ?? ""
            let duration = Duration.seconds(current.spec.leaseDurationSeconds ?? Self.seconds(settings.leaseDuration))
            if !holder.isEmpty, holder != mine, monotonicNow() - observedAt < duration {
                lost(holder: holder)
                return false
            }
            var spec = current.spec
            if holder != mine {
                spec.leaseTransitions = (spec.leaseTransitions ?? 0) + 1
                spec.acquireTime = KubernetesTime.micro(now)
            }
            spec.holderIdentity = mine
            spec.leaseDurationSeconds = Self.seconds(settings.leaseDuration)
            spec.renewTime = KubernetesTime.micro(now)
            var update = current
            update.spec = spec
            succeeded(try await client.updateLease(update), startedAt: started)
            return true
        } catch {
            if error.code == 409 {
                logger.debug("lease written by another replica first", metadata: ["lease": "\(settings.name)"])
            } else {
                logger.warning("cannot acquire or renew the lease", metadata: ["lease": "\(settings.name)", "error": "\(error)"])
            }
            // Not renewed: still leading until the renew deadline passes (``isLeader()`` says so by the clock).
            let expired = state.withLock { state -> Bool in
                guard state.leading, let renewed = state.renewedAt, monotonicNow() - renewed >= settings.renewDeadline else { return false }
                state.leading = false
                return true
            }
            if expired {
                logger.error("stopped leading: the lease could not be renewed within the renew deadline", metadata: ["lease": "\(settings.name)"])
                transitions?(false, nil)
            }
            return false
        }
    }

    /// Gives the lease up (holder empty, one-second duration) so that another replica leads at once, if the lease
    /// still names this replica (also after it stepped down at its renew deadline).
    ///
    /// A renewal cut off by the shutdown may have landed all the same, leaving the lease on the server newer than the
    /// one kept here: on a conflict the lease is read again, and released if it still names this replica.
    public func release() async {
        guard var lease = state.withLock({ $0.lease?.spec.holderIdentity == settings.identity ? $0.lease : nil }) else { return }
        for mayReread in [true, false] {
            let now = Date()
            var update = lease
            update.spec.holderIdentity = ""
            update.spec.leaseDurationSeconds = 1
            update.spec.renewTime = KubernetesTime.micro(now)
            update.spec.acquireTime = KubernetesTime.micro(now)
            do throws(KubernetesError) {
                let released = try await client.updateLease(update)
                state.withLock { state in
                    state.lease = released
                    state.leading = false
                }
                logger.notice("released the lease", metadata: ["lease": "\(settings.name)"])
                transitions?(false, "")
                return
            } catch {
                if mayReread, error.code == 409, let current = try? await client.lease(settings.name, namespace: settings.namespace),
                    current.spec.holderIdentity == settings.identity
                {
                    lease = current
                    continue
                }
                logger.warning("cannot release the lease: another replica leads when it expires", metadata: ["error": "\(error)"])
                return
            }
        }
    }

    private func succeeded(_ lease: Lease, startedAt: ContinuousClock.Instant) {
        let became = state.withLock { state -> Bool in
            let was = state.leading
            state.lease = lease
            state.observedAt = startedAt
            state.renewedAt = startedAt
            state.leading = true
            return !was
        }
        if became {
            logger.notice(
                "leading",
                metadata: ["lease": "\(settings.name)", "identity": "\(settings.identity)", "epoch": "\(lease.spec.leaseTransitions ?? 0)"])
            transitions?(true, settings.identity)
        }
    }

    private func lost(holder: String) {
        let was = state.withLock { state -> Bool in
            defer { state.leading = false }
            return state.leading
        }
        if was {
            logger.error("stopped leading: another replica holds the lease", metadata: ["holder": "\(holder)"])
            transitions?(false, holder)
        }
    }

    private static func seconds(_ duration: Duration) -> Int {
        max(1, Int(duration.components.seconds))
    }
}
