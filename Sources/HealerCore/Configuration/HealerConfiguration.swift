public import SeriesLabels

/// Everything `healer.yaml` and its rule files say, validated. Built by the loader in `HealerRules`.
public struct HealerConfiguration: Sendable, Equatable {
    /// Where the configuration came from.
    public var source: SourceLocation
    /// The Prometheus to read health from.
    public var prometheus: PrometheusSettings
    /// Load balancers by name.
    public var balancers: [String: BalancerSettings]
    /// Actuators (restart commands, webhooks) by name.
    public var actuators: [String: ActuatorSettings]
    /// Pools by name.
    public var pools: [String: PoolSettings]
    /// The rule file patterns, as written.
    public var ruleFiles: [String]
    /// The rule groups loaded from them.
    public var groups: [RuleGroup]
    /// Loop timing.
    public var reconcile: ReconcileSettings
    /// Safety gates.
    public var safety: SafetySettings
    /// Where durable state lives.
    public var state: StateSettings
    /// The HTTP server.
    public var server: ServerSettings
    /// Leader election among replicas; `nil`: a single instance, always the leader.
    public var ha: HASettings?

    /// Creates a configuration.
    public init(
        source: SourceLocation = SourceLocation(file: "<memory>"), prometheus: PrometheusSettings = PrometheusSettings(),
        balancers: [String: BalancerSettings] = [:], actuators: [String: ActuatorSettings] = [:], pools: [String: PoolSettings] = [:],
        ruleFiles: [String] = [], groups: [RuleGroup] = [], reconcile: ReconcileSettings = ReconcileSettings(),
        safety: SafetySettings = SafetySettings(), state: StateSettings = StateSettings(), server: ServerSettings = ServerSettings()
    ) {
        self.source = source
        self.prometheus = prometheus
        self.balancers = balancers
        self.actuators = actuators
        self.pools = pools
        self.ruleFiles = ruleFiles
        self.groups = groups
        self.reconcile = reconcile
        self.safety = safety
        self.state = state
        self.server = server
    }

    /// Every recovery rule of every group, in file order.
    public var recoveryRules: [RecoveryRule] { groups.flatMap(\.rules) }
}

/// How to reach Prometheus (mirrors the connection options of the Prometheus client).
public struct PrometheusSettings: Sendable, Equatable {
    /// The base URL.
    public var url: String = "http://127.0.0.1:9090"
    /// A path before `/api/v1` (Mimir: `/prometheus`).
    public var pathPrefix: String = ""
    /// The client-side limit for one query.
    public var timeout: Duration = .seconds(5)
    /// The server-side evaluation limit (`timeout` parameter); none when `nil`.
    public var queryTimeout: Duration?
    /// A file holding a bearer token, re-read when it changes.
    public var bearerTokenFile: String?
    /// Basic-auth user name.
    public var basicAuthUsername: String?
    /// Basic-auth password (from `password` or read from `password_file` by the loader).
    public var basicAuthPassword: String?
    /// Extra headers, e.g. `X-Scope-OrgID`.
    public var headers: [String: String] = [:]
    /// A PEM CA bundle.
    public var caFile: String?
    /// A PEM client certificate.
    public var certFile: String?
    /// The client certificate's key.
    public var keyFile: String?
    /// Skip TLS verification.
    public var insecureSkipVerify = false
    /// Sent as `partial_response` when set.
    public var partialResponse: Bool?

    /// Creates settings with defaults.
    public init() {}
}

/// One load balancer.
public enum BalancerSettings: Sendable, Equatable {
    /// HAProxy through its runtime API: `tcp://host:port` or `unix:///path`.
    case haproxy(runtimeAPI: String)
    /// Kubernetes pods: a pod serves while its readiness gate's condition is `True` (every Service's endpoints
    /// follow its readiness), and is drained by setting it `False`.
    case kubernetes(KubernetesSettings)
}

/// One actuator.
public enum ActuatorSettings: Sendable, Equatable {
    /// Runs a program; arguments may hold `{{ .pool }}`, `{{ .server }}`, `{{ .backend }}`, `{{ .rule }}`
    /// (``ExecTemplate``). A value starting with `-` is refused unless `allowLeadingDash`.
    case exec(command: [String], timeout: Duration, allowLeadingDash: Bool = false)
    /// POSTs a JSON description of the action.
    case webhook(url: String, timeout: Duration, headers: [String: String])
    /// Acts on the pod itself, through the Kubernetes API of the pool's balancer.
    case kubernetes(PodAction, gracePeriod: Duration?)
}

/// A group of interchangeable servers behind one balancer backend.
public struct PoolSettings: Sendable, Equatable {
    /// The pool's name.
    public var name: String
    /// The balancer in front of it, when Healer may change weights and states.
    public var balancer: String?
    /// The balancer's backend (HAProxy `backend`).
    public var backend: String
    /// Servers known up front (weight 100 each); otherwise learned from the balancer or from the series.
    public var servers: [String]
    /// Servers kept out of rotation until a scale rule brings them in.
    public var spares: [String]
    /// The share of configured weight of non-spare servers that must stay healthy and in rotation.
    public var minHealthyCapacity: Double
    /// How many servers may be under remediation at once.
    public var maxInFlight: Int
    /// How a series' labels name the server.
    public var serverTemplate: TargetTemplate
    /// When set, a series belongs to this pool only when this renders to ``backend``.
    public var backendTemplate: TargetTemplate?
    /// For a pool of Kubernetes pods: the label selector that picks its pods (in namespace ``backend``).
    public var selector: String?
    /// Where it was defined.
    public var source: SourceLocation

    /// Creates a pool.
    public init(
        name: String, balancer: String? = nil, backend: String, servers: [String] = [], spares: [String] = [],
        minHealthyCapacity: Double = 0.5, maxInFlight: Int = 1, serverTemplate: TargetTemplate = TargetTemplate(label: "server"),
        backendTemplate: TargetTemplate? = nil, source: SourceLocation = SourceLocation(file: "<memory>")
    ) {
        self.name = name
        self.balancer = balancer
        self.backend = backend
        self.servers = servers
        self.spares = spares
        self.minHealthyCapacity = minHealthyCapacity
        self.maxInFlight = maxInFlight
        self.serverTemplate = serverTemplate
        self.backendTemplate = backendTemplate
        self.source = source
    }

    /// The server a series names, or `nil` when the series is not about this pool.
    public func server(for labels: Labels) -> String? {
        if let backendTemplate, backendTemplate.render(labels) != backend { return nil }
        return serverTemplate.render(labels)
    }

    /// The label whose value alone is ``server(for:)`` (the usual `{{ $labels.server }}` without a backend template),
    /// for callers that name many series and look it up once; `nil` when naming a server takes more.
    public var serverLabel: String? {
        backendTemplate == nil ? serverTemplate.singleLabel : nil
    }

    /// The labels ``server(for:)`` reads: all the engine needs of a series of this pool.
    public var labelsRead: Set<String> {
        Set(serverTemplate.labelNames + (backendTemplate?.labelNames ?? []))
    }
}

/// Loop timing and query settings.
public struct ReconcileSettings: Sendable, Equatable {
    /// Time between passes.
    public var interval: Duration = .seconds(2)
    /// Rule queries in flight at once.
    public var queryConcurrency = 4
    /// An answer, or the newest sample behind it for a server, older than this is stale (unknown); rules may
    /// override. Set it above the longest scrape (or recording-rule) interval of the series rules read.
    public var maxSampleAge: Duration = .minutes(2)

    /// Creates settings with defaults.
    public init() {}
}

/// The global safety settings (gates).
public struct SafetySettings: Sendable, Equatable {
    /// Record what would be done, do nothing.
    public var dryRun = false
    /// The global action rate (token bucket: this many per minute, burst the same).
    public var maxActionsPerMinute = 6
    /// More than this share of a pool (or of all targets) unhealthy or unknown freezes destructive actions.
    public var stormMaxUnhealthy = 0.5
    /// How long the freeze lasts after the storm ends.
    public var stormCooldown: Duration = .minutes(2)
    /// Minimum time between two destructive actions on the same server.
    public var targetCooldown: Duration = .seconds(5)
    /// Verdict changes within ``flapWindow`` that make a target "flapping".
    public var flapTransitions = 4
    /// The window for flap detection.
    public var flapWindow: Duration = .minutes(2)

    /// Creates settings with defaults.
    public init() {}
}

/// Where durable state lives.
public struct StateSettings: Sendable, Equatable {
    /// The state file or database path.
    public var path = ".healer/state.db"

    /// Creates settings with defaults.
    public init() {}
}

/// The controller's own HTTP server.
public struct ServerSettings: Sendable, Equatable {
    /// `host:port` to listen on.
    public var listen = "127.0.0.1:9102"
    /// A file holding the bearer token the webhook and the mutating endpoints require; none when `nil`.
    public var bearerTokenFile: String?
    /// Serve the mutating endpoints without a token on a non-loopback address (something else in front must
    /// authenticate): off unless said.
    public var allowUnauthenticated = false
    /// Where `listen` was set.
    public var source = SourceLocation(file: "<memory>")

    /// Creates settings with defaults.
    public init() {}

    /// How long a client has to send a whole request (headers and body) once the connection is ready for one:
    /// slow and idle connections are closed after it.
    public var readTimeout: Duration = .seconds(10)
    /// How long a client has to take a response once Healer starts writing it.
    public var writeTimeout: Duration = .seconds(30)
    /// Connections served at once; more wait in the kernel's accept queue, so that file descriptors stay free for
    /// Prometheus, the balancers and the actuators.
    public var maxConnections = 256

    /// The host and port of a `host:port` listen address; the host loses IPv6 brackets (`[::1]:9102` is `::1`),
    /// and is empty for `:9102`. `nil` when there is no valid port.
    public static func split(listen: String) -> (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = listen[..<colon]
        if host.hasPrefix("[") || host.hasSuffix("]") {
            guard host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2 else { return nil }
            host = host.dropFirst().dropLast()
        }
        return (String(host), port)
    }

    /// Whether ``listen`` names a loopback address only (`127.x.x.x`, `::1`, `localhost`, or no host, which the
    /// server binds to 127.0.0.1); `0.0.0.0` and `::` listen on every interface.
    public var listensOnLoopbackOnly: Bool {
        guard let host = Self.split(listen: listen)?.host else { return false }
        if host.isEmpty || host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// Why the mutating endpoints (pause, resume, quarantine release, reload, the alert webhook) would be open to
    /// anyone who reaches the port, or `nil` when they are not: a token is required, the address is loopback, or
    /// ``allowUnauthenticated`` says something else guards it.
    public var unprotectedEndpointsProblem: String? {
        guard bearerTokenFile == nil, !allowUnauthenticated, !listensOnLoopbackOnly else { return nil }
        return "\(listen) is reachable from the network and no bearer_token_file is set: anyone who reaches it could pause Healer or "
            + "release a quarantine; set bearer_token_file, listen on a loopback address, or set allow_unauthenticated: true "
            + "if something in front authenticates"
    }
}

extension Duration {
    /// `minutes` minutes.
    public static func minutes(_ minutes: Int) -> Duration { .seconds(minutes * 60) }
}

/// How Healer reaches a Kubernetes cluster and marks its pods in or out of service.
public struct KubernetesSettings: Sendable, Equatable {
    /// The pod condition type Healer owns: workloads list it in `spec.readinessGates`.
    public var readinessGate: String
    /// A kubeconfig to use instead of the pod's service account (outside a cluster).
    public var kubeconfig: String?
    /// The kubeconfig context; its current context when `nil`.
    public var context: String?

    /// The readiness gate Healer uses unless told otherwise.
    public static let defaultReadinessGate = "healer.dev/serving"

    /// Creates settings.
    public init(readinessGate: String = defaultReadinessGate, kubeconfig: String? = nil, context: String? = nil) {
        self.readinessGate = readinessGate
        self.kubeconfig = kubeconfig
        self.context = context
    }
}

/// What a Kubernetes actuator does to a pod.
public enum PodAction: String, Sendable, Equatable, CaseIterable {
    /// Deletes the pod (its controller makes a replacement), only if it is still the pod Healer judged.
    case delete
    /// Evicts the pod through the Eviction API, which PodDisruptionBudgets may refuse for now.
    case evict
}

/// Leader election on a Kubernetes Lease (`ha:`), so that of several replicas exactly one acts.
public struct HASettings: Sendable, Equatable {
    /// The Lease's name.
    public var leaseName: String = "healer"
    /// The ConfigMap the replicas share their state in (beside the Lease).
    public var stateConfigMap: String = "healer-state"
    /// Where this replica's API is reached by the others (alerts a follower receives are forwarded to the leader's);
    /// `http://$POD_IP:<listen port>` when `nil` and `POD_IP` is set, else the listen address when it names one.
    public var advertiseURL: String?
    /// Its namespace; the pod's own when `nil`.
    public var namespace: String?
    /// This replica's identity; `$POD_NAME`, else the host name, when `nil`.
    public var identity: String?
    /// client-go's lease duration, renew deadline and retry period.
    public var leaseDuration: Duration = .seconds(15)
    public var renewDeadline: Duration = .seconds(10)
    public var retryPeriod: Duration = .seconds(2)
    /// A kubeconfig instead of the pod's service account, and its context.
    public var kubeconfig: String?
    public var context: String?
    /// Where it was defined.
    public var source = SourceLocation(file: "<memory>")

    /// Defaults.
    public init() {}

    /// Where this replica's API is reached by the others: ``advertiseURL``, else `POD_IP` with the port of `listen`, else
    /// the host of `listen` when it names one (not `0.0.0.0`, `::` or nothing); `nil` when none can be told.
    public func advertisedURL(listen: String, podIP: String?) -> String? {
        if let advertiseURL { return advertiseURL }
        guard let (host, port) = ServerSettings.split(listen: listen) else { return nil }
        let chosen = podIP.flatMap { $0.isEmpty ? nil : $0 } ?? (["", "0.0.0.0", "::"].contains(host) ? nil : host)
        return chosen.map { "http://" + ($0.contains(":") ? "[\($0)]" : $0) + ":\(port)" }
    }

    /// Why client-go would refuse these timings (`lease > renew deadline > 1.2 × retry period > 0`), or `nil`.
    public static func timingProblem(leaseDuration: Duration, renewDeadline: Duration, retryPeriod: Duration) -> String? {
        if retryPeriod <= .zero { return "retry_period must be positive" }
        if leaseDuration <= renewDeadline { return "the lease duration must be longer than renew_deadline" }
        if renewDeadline <= retryPeriod * 1.2 { return "renew_deadline must be longer than 1.2 × retry_period" }
        return nil
    }
}
