/// A safety check an action must pass, in the order they are checked.
public enum Gate: String, Sendable, Codable, CaseIterable {
    /// Only the leader acts.
    case leader
    /// Healer or the pool is paused.
    case pause
    /// The verdict rests on fresh, complete data.
    case dataQuality = "data_quality"
    /// Healthy capacity stays at or above the pool's floor.
    case capacityFloor = "capacity_floor"
    /// At most `max_in_flight` servers of a pool under remediation.
    case inFlight = "in_flight"
    /// The global token bucket.
    case rateLimit = "rate_limit"
    /// Remedy attempts per target and rule (exhaustion quarantines).
    case budget
    /// Too much of the pool is unhealthy or unknown, or the storm cooldown runs.
    case storm
    /// Too soon after the last action on this server.
    case cooldown
}
