import Foundation
import HealerCore
import Yams

/// Reads `healer.yaml` into a ``HealerConfiguration`` (without rule groups), reporting every problem.
struct ConfigurationParser {
    let diagnostics: Diagnostics
    /// The configuration file's directory, for relative paths.
    let directory: String
    /// Reads a file named in the configuration (a password file); `nil` with a reason when it cannot.
    let readFile: (String) -> Result<String, ConfigurationError.Reason>

    func parse(_ root: YAMLField) -> HealerConfiguration {
        var configuration = HealerConfiguration(source: root.location)
        let keys = ["prometheus", "balancers", "actuators", "pools", "rules", "reconcile", "safety", "state", "server", "ha"]
        guard let fields = root.mapping(allowed: keys) else { return configuration }
        if let field = fields["prometheus"] {
            configuration.prometheus = prometheus(field)
        } else {
            root.error("missing \"prometheus\" (at least its url)")
        }
        configuration.balancers = fields["balancers"].map(balancers) ?? [:]
        configuration.actuators = fields["actuators"].map(actuators) ?? [:]
        configuration.pools = fields["pools"].map(pools) ?? [:]
        if configuration.pools.isEmpty, fields["pools"] == nil { root.error("missing \"pools\": nothing to heal") }
        configuration.ruleFiles = fields["rules"]?.stringList() ?? []
        if let field = fields["reconcile"] { configuration.reconcile = reconcile(field) }
        if let field = fields["safety"] { configuration.safety = safety(field) }
        if let field = fields["ha"] { configuration.ha = ha(field) }
        if let state = fields["state"]?.mapping(allowed: ["path"]), let field = state["path"], let path = field.string() {
            configuration.state.path = path
            var isDirectory: ObjCBool = false
            let resolved = ConfigurationLoader.resolve(path, in: directory)
            if path.hasSuffix("/") || (FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) && isDirectory.boolValue) {
                field.error("names a directory; give the database file in it, such as \((resolved as NSString).appendingPathComponent("state.db"))")
            }
        }
        configuration.state.path = ConfigurationLoader.resolve(configuration.state.path, in: directory)
        let serverKeys = ["listen", "bearer_token_file", "allow_unauthenticated", "read_timeout", "write_timeout", "max_connections"]
        if let server = fields["server"]?.mapping(allowed: serverKeys) {
            if let allow = server["allow_unauthenticated"]?.bool() { configuration.server.allowUnauthenticated = allow }
            if let field = server["listen"] ?? fields["server"] { configuration.server.source = field.location }
            if let field = server["listen"], let listen = field.string() {
                if ServerSettings.split(listen: listen) == nil {
                    field.error("expected host:port (a port from 0 to 65535; [::1]:9102 for IPv6), got \(field.shown)")
                } else {
                    configuration.server.listen = listen
                }
            }
            if let timeout = server["read_timeout"]?.duration(allowZero: false, max: .seconds(600)) { configuration.server.readTimeout = timeout }
            if let timeout = server["write_timeout"]?.duration(allowZero: false, max: .seconds(600)) { configuration.server.writeTimeout = timeout }
            if let count = server["max_connections"]?.int(in: 1...1_000_000) { configuration.server.maxConnections = count }
            if let file = server["bearer_token_file"]?.string() {
                configuration.server.bearerTokenFile = ConfigurationLoader.resolve(file, in: directory)
            }
        }
        return configuration
    }

    private func prometheus(_ field: YAMLField) -> PrometheusSettings {
        var settings = PrometheusSettings()
        let keys = [
            "url", "path_prefix", "timeout", "query_timeout", "bearer_token_file", "basic_auth", "headers", "tls", "partial_response",
        ]
        guard let fields = field.mapping(allowed: keys) else { return settings }
        if let url = fields["url"] {
            if let text = url.string() {
                if text.hasPrefix("http://") || text.hasPrefix("https://") {
                    settings.url = text
                } else {
                    url.error("expected an http:// or https:// URL, got \(url.shown)")
                }
            }
        } else {
            field.error("missing \"url\"")
        }
        settings.pathPrefix = fields["path_prefix"]?.string(nonEmpty: false) ?? ""
        if let timeout = fields["timeout"]?.duration(allowZero: false, max: .seconds(600)) { settings.timeout = timeout }
        settings.queryTimeout = fields["query_timeout"]?.duration(allowZero: false, max: .seconds(600))
        settings.bearerTokenFile = fields["bearer_token_file"]?.string()
        if let auth = fields["basic_auth"], let entries = auth.mapping(allowed: ["username", "password", "password_file"]) {
            settings.basicAuthUsername = entries["username"]?.string()
            if settings.basicAuthUsername == nil, entries["username"] == nil { auth.error("missing \"username\"") }
            switch (entries["password"], entries["password_file"]) {
            case (let password?, nil): settings.basicAuthPassword = password.string(nonEmpty: false)
            case (nil, let file?):
                if let path = file.string() {
                    switch readFile(path) {
                    case .success(let text): settings.basicAuthPassword = text.trimmingWhitespace()
                    case .failure(let reason): file.error("cannot read \(path): \(reason.text)")
                    }
                }
            case (_?, _?): auth.error("give either \"password\" or \"password_file\", not both")
            case (nil, nil): auth.error("missing \"password\" or \"password_file\"")
            }
        }
        settings.headers = fields["headers"]?.stringMap() ?? [:]
        if let tls = fields["tls"], let entries = tls.mapping(allowed: ["ca_file", "cert_file", "key_file", "insecure_skip_verify"]) {
            settings.caFile = entries["ca_file"]?.string()
            settings.certFile = entries["cert_file"]?.string()
            settings.keyFile = entries["key_file"]?.string()
            settings.insecureSkipVerify = entries["insecure_skip_verify"]?.bool() ?? false
            if (entries["cert_file"] == nil) != (entries["key_file"] == nil) { tls.error("\"cert_file\" and \"key_file\" go together") }
        }
        settings.partialResponse = fields["partial_response"]?.bool()
        return settings
    }

    private func balancers(_ field: YAMLField) -> [String: BalancerSettings] {
        var result: [String: BalancerSettings] = [:]
        for entry in field.namedEntries() ?? [] {
            guard let kinds = entry.field.mapping(allowed: ["haproxy", "kubernetes"]) else { continue }
            guard kinds.count == 1 else {
                entry.field.error("give exactly one balancer kind: haproxy or kubernetes")
                continue
            }
            if let kubernetes = kinds["kubernetes"] {
                if let settings = self.kubernetes(kubernetes) { result[entry.name] = .kubernetes(settings) }
                continue
            }
            guard let haproxy = kinds["haproxy"] else { continue }
            guard let settings = haproxy.mapping(allowed: ["runtime_api"]) else { continue }
            guard let api = settings["runtime_api"] else {
                haproxy.error("missing \"runtime_api\" (tcp://host:port or unix:///path/to/admin.sock)")
                continue
            }
            guard let address = api.string() else { continue }
            guard RuntimeAddress(parsing: address) != nil else {
                api.error("expected tcp://IPv4-address:port (or localhost; port 1 to 65535) or unix:///absolute/path, got \(api.shown)")
                continue
            }
            result[entry.name] = .haproxy(runtimeAPI: address)
        }
        return result
    }

    private func kubernetes(_ field: YAMLField) -> KubernetesSettings? {
        guard let fields = field.mapping(allowed: ["readiness_gate", "kubeconfig", "context"]) else { return nil }
        var settings = KubernetesSettings()
        if let gateField = fields["readiness_gate"], let gate = gateField.string() {
            // A condition type is a qualified name: an optional DNS prefix and a name of letters, digits, '-', '_', '.'.
            let valid =
                gate.split(separator: "/", omittingEmptySubsequences: false).count <= 2 && !gate.isEmpty
                && gate.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) }
            if valid { settings.readinessGate = gate } else { gateField.error("not a condition type: expected e.g. healer.dev/serving") }
        }
        settings.kubeconfig = fields["kubeconfig"]?.string()
        settings.context = fields["context"]?.string()
        return settings
    }

    private func actuators(_ field: YAMLField) -> [String: ActuatorSettings] {
        var result: [String: ActuatorSettings] = [:]
        for entry in field.namedEntries() ?? [] {
            guard let kinds = entry.field.mapping(allowed: ["exec", "webhook", "kubernetes"]) else { continue }
            guard kinds.count == 1 else {
                entry.field.error("give exactly one actuator kind: exec, webhook or kubernetes")
                continue
            }
            if let kubernetes = kinds["kubernetes"], let settings = kubernetes.mapping(allowed: ["action", "grace_period"]) {
                guard let actionField = settings["action"] else {
                    kubernetes.error("missing \"action\" (delete or evict)")
                    continue
                }
                guard let text = actionField.string() else { continue }
                guard let action = PodAction(rawValue: text) else {
                    actionField.error("expected delete or evict, got \(actionField.shown)")
                    continue
                }
                result[entry.name] = .kubernetes(action, gracePeriod: settings["grace_period"]?.duration(max: .seconds(3600)))
                continue
            }
            if let exec = kinds["exec"], let settings = exec.mapping(allowed: ["command", "timeout", "allow_leading_dash"]) {
                guard let commandField = settings["command"] else {
                    exec.error("missing \"command\" (a list: program and arguments)")
                    continue
                }
                guard let command = commandField.stringList() else { continue }
                guard !command.isEmpty else {
                    commandField.error("must name a program")
                    continue
                }
                if let problem = ExecTemplate.problem(in: command) {
                    commandField.error(problem)
                    continue
                }
                result[entry.name] = .exec(
                    command: command, timeout: settings["timeout"]?.duration(allowZero: false, max: .seconds(3600)) ?? .seconds(30),
                    allowLeadingDash: settings["allow_leading_dash"]?.bool() ?? false)
            } else if let webhook = kinds["webhook"], let settings = webhook.mapping(allowed: ["url", "timeout", "headers"]) {
                guard let urlField = settings["url"], let url = urlField.string() else {
                    if settings["url"] == nil { webhook.error("missing \"url\"") }
                    continue
                }
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    urlField.error("expected an http:// or https:// URL, got \(urlField.shown)")
                    continue
                }
                result[entry.name] = .webhook(
                    url: url, timeout: settings["timeout"]?.duration(allowZero: false, max: .seconds(3600)) ?? .seconds(10),
                    headers: settings["headers"]?.stringMap() ?? [:])
            }
        }
        return result
    }

    private func pools(_ field: YAMLField) -> [String: PoolSettings] {
        var result: [String: PoolSettings] = [:]
        let keys = ["balancer", "backend", "namespace", "selector", "servers", "spares", "min_healthy_capacity", "max_in_flight", "target"]
        for entry in field.namedEntries() ?? [] {
            guard let fields = entry.field.mapping(allowed: keys) else { continue }
            var pool: PoolSettings
            // A pool of pods names a namespace and a selector; a pool of a balancer's servers names its backend.
            if fields["namespace"] != nil || fields["selector"] != nil {
                guard let pods = podPool(entry.name, fields, entry.field, entry.keyLocation) else { continue }
                pool = pods
            } else {
                guard let backendField = fields["backend"] else {
                    entry.field.error(
                        "missing \"backend\" (the balancer backend this pool's servers are in), or \"namespace\" and \"selector\" for pods")
                    continue
                }
                guard let backend = backendField.name() else { continue }
                pool = PoolSettings(name: entry.name, backend: backend, source: entry.keyLocation)
                pool.servers = fields["servers"]?.nameList() ?? []
                pool.spares = fields["spares"]?.nameList() ?? []
                for (name, list) in [("servers", pool.servers), ("spares", pool.spares)] {
                    let duplicates = Dictionary(grouping: list, by: { $0 }).filter { $1.count > 1 }.keys.sorted()
                    if !duplicates.isEmpty { fields[name]?.error("listed twice: \(duplicates.joined(separator: ", "))") }
                }
                let both = Set(pool.servers).intersection(pool.spares).sorted()
                if !both.isEmpty { fields["spares"]?.error("\(both.joined(separator: ", ")) also listed in servers") }
            }
            pool.balancer = fields["balancer"]?.string()
            pool.minHealthyCapacity = fields["min_healthy_capacity"]?.share() ?? 0.5
            pool.maxInFlight = fields["max_in_flight"]?.int(in: 1...10_000) ?? 1
            if let target = fields["target"], let templates = target.mapping(allowed: ["server", "backend"]) {
                if let server = templates["server"]?.template() { pool.serverTemplate = server }
                if let backend = templates["backend"]?.template() { pool.backendTemplate = backend }
            }
            result[entry.name] = pool
        }
        return result
    }

    /// A pool of the pods `selector` picks in `namespace`; series name them by `pod` and `namespace` (as
    /// kube-state-metrics and cAdvisor do) unless `target` says otherwise.
    private func podPool(_ name: String, _ fields: [String: YAMLField], _ field: YAMLField, _ location: SourceLocation) -> PoolSettings? {
        for key in ["backend", "servers", "spares"] where fields[key] != nil {
            fields[key]?.error("a pool of pods has no \"\(key)\": its pods are the ones \"selector\" picks in \"namespace\"")
        }
        guard let namespaceField = fields["namespace"], let selectorField = fields["selector"] else {
            field.error("a pool of pods needs both \"namespace\" and \"selector\" (a label selector, e.g. app=web)")
            return nil
        }
        guard let namespace = namespaceField.string(), let selector = selectorField.string() else { return nil }
        // A namespace is a DNS label: lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit.
        let alphanumeric = { (c: Character) in c.isASCII && (c.isLowercase || c.isNumber) }
        guard namespace.count <= 63, namespace.allSatisfy({ alphanumeric($0) || $0 == "-" }), namespace.first.map(alphanumeric) == true,
            namespace.last.map(alphanumeric) == true
        else {
            namespaceField.error("not a namespace name (a DNS label: lower-case letters, digits and '-'): \(namespaceField.shown)")
            return nil
        }
        var pool = PoolSettings(
            name: name, backend: namespace, serverTemplate: TargetTemplate(label: "pod"), backendTemplate: TargetTemplate(label: "namespace"),
            source: location)
        pool.selector = selector
        return pool
    }

    private func ha(_ field: YAMLField) -> HASettings? {
        guard let fields = field.mapping(allowed: ["lease", "state_config_map", "advertise_url", "kubeconfig", "context"]) else { return nil }
        var settings = HASettings()
        settings.source = field.location
        if let name = fields["state_config_map"]?.string() { settings.stateConfigMap = name }
        if let field = fields["advertise_url"], let url = field.string() {
            if let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil {
                settings.advertiseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
            } else {
                field.error("must be an http(s) URL with a host, such as http://10.0.3.7:9102")
            }
        }
        settings.kubeconfig = fields["kubeconfig"]?.string()
        settings.context = fields["context"]?.string()
        guard let lease = fields["lease"] else {
            field.error("missing \"lease\" (at least {} for the defaults: name healer, duration 15s, renew_deadline 10s, retry_period 2s)")
            return nil
        }
        guard let entries = lease.mapping(allowed: ["name", "namespace", "identity", "duration", "renew_deadline", "retry_period"]) else {
            return nil
        }
        if let name = entries["name"]?.string() { settings.leaseName = name }
        settings.namespace = entries["namespace"]?.string()
        settings.identity = entries["identity"]?.string()  // string() refuses an empty one: an empty holder means "free"
        if let field = entries["duration"], let value = field.duration(allowZero: false, max: .seconds(3600)) {
            // A Lease holds whole seconds: a fraction would be cut off after the timings were checked.
            if value.components.attoseconds != 0 { field.error("must be whole seconds (a Lease holds whole seconds)") }
            settings.leaseDuration = value
        }
        if let value = entries["renew_deadline"]?.duration(allowZero: false, max: .seconds(3600)) { settings.renewDeadline = value }
        if let value = entries["retry_period"]?.duration(allowZero: false, max: .seconds(600)) { settings.retryPeriod = value }
        if let problem = HASettings.timingProblem(
            leaseDuration: settings.leaseDuration, renewDeadline: settings.renewDeadline, retryPeriod: settings.retryPeriod)
        {
            lease.error(problem)
        }
        return settings
    }

    private func reconcile(_ field: YAMLField) -> ReconcileSettings {
        var settings = ReconcileSettings()
        guard let fields = field.mapping(allowed: ["interval", "query_concurrency", "max_sample_age"]) else { return settings }
        if let interval = fields["interval"]?.duration(allowZero: false, max: .seconds(3600)) { settings.interval = interval }
        if let concurrency = fields["query_concurrency"]?.int(in: 1...256) { settings.queryConcurrency = concurrency }
        if let age = fields["max_sample_age"]?.duration(allowZero: false, max: .seconds(86_400)) { settings.maxSampleAge = age }
        return settings
    }

    private func safety(_ field: YAMLField) -> SafetySettings {
        var settings = SafetySettings()
        let keys = ["dry_run", "max_actions_per_minute", "storm", "cooldown", "flap"]
        guard let fields = field.mapping(allowed: keys) else { return settings }
        if let dryRun = fields["dry_run"]?.bool() { settings.dryRun = dryRun }
        if let rate = fields["max_actions_per_minute"]?.int(in: 1...10_000) { settings.maxActionsPerMinute = rate }
        if let cooldown = fields["cooldown"]?.duration(max: .seconds(86_400)) { settings.targetCooldown = cooldown }
        if let storm = fields["storm"]?.mapping(allowed: ["max_unhealthy", "cooldown"]) {
            if let field = storm["max_unhealthy"], let share = field.share() {
                if share == 0 {
                    field.error("must be above 0% (at 0% one unhealthy server would freeze every remedy: a storm that never ends)")
                } else {
                    settings.stormMaxUnhealthy = share
                }
            }
            if let cooldown = storm["cooldown"]?.duration(max: .seconds(86_400)) { settings.stormCooldown = cooldown }
        }
        if let flap = fields["flap"]?.mapping(allowed: ["transitions", "window"]) {
            if let transitions = flap["transitions"]?.int(in: 0...1000) { settings.flapTransitions = transitions }
            if let window = flap["window"]?.duration(allowZero: false, max: .seconds(86_400)) { settings.flapWindow = window }
        }
        return settings
    }
}

extension ConfigurationError {
    /// Why a file could not be read.
    struct Reason: Error {
        var text: String
    }
}
