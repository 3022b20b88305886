#if canImport(Glibc)
    import Glibc
#endif

/// Keeps enough file descriptors for Healer's own work (Prometheus queries, balancer sockets, the state database,
/// actuator pipes) whatever its HTTP clients do: the soft `RLIMIT_NOFILE` is raised as far as needed at start,
/// and `server.max_connections` must leave ``reserved(queryConcurrency:)`` descriptors below it.
public enum FileDescriptorBudget {
    /// Descriptors kept back from the HTTP server for outbound work: 96 for the state database, the balancers'
    /// sockets, actuator pipes and webhooks, and one per concurrent Prometheus query.
    public static func reserved(queryConcurrency: Int) -> Int { 96 + queryConcurrency }

    /// Why `maxConnections` would starve outbound work under a descriptor limit of `limit`, or `nil` when it fits.
    public static func problem(maxConnections: Int, queryConcurrency: Int, limit: UInt64) -> String? {
        let reserved = reserved(queryConcurrency: queryConcurrency)
        guard UInt64(maxConnections) + UInt64(reserved) > limit else { return nil }
        let fits = limit > UInt64(reserved) ? limit - UInt64(reserved) : 0
        return "server.max_connections is \(maxConnections), but the open-file limit is \(limit) and Healer keeps \(reserved) "
            + "descriptors for Prometheus (reconcile.query_concurrency), the balancers and the actuators: lower server.max_connections to \(fits) or less, "
            + "or raise the limit (ulimit -n, LimitNOFILE=)"
    }

    /// Raises the soft open-file limit to what `maxConnections` and the reserve need (with room to spare), within the
    /// hard limit, and returns the limit now in force. Not further: children of the exec actuator inherit it, and
    /// programs that loop to the open-file limit or use `select` suffer under a huge one.
    public static func raiseLimit(maxConnections: Int, queryConcurrency: Int) -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let wanted = UInt64(maxConnections + reserved(queryConcurrency: queryConcurrency) + 256)
        if UInt64(limit.rlim_cur) < wanted {
            var raised = limit
            raised.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }

    /// The hard open-file limit: the most ``raiseLimit(maxConnections:queryConcurrency:)`` can reach.
    public static func hardLimit() -> UInt64 {
        var limit = rlimit()
        return getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? UInt64(limit.rlim_max) : 1024
    }
}
