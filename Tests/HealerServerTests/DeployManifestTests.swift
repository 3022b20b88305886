import CurlHTTP
import Foundation
import HealerCore
import HealerRules
import HealerTesting
import Testing
import Yams

/// deploy/kubernetes and the Dockerfile against what Healer serves and reads: a manifest that names a port,
/// a path, a file or a permission Healer does not have fails here, not in someone's cluster.
@Suite("Deployment manifests")
struct DeployManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let deploy = root.appendingPathComponent("deploy/kubernetes")

    /// The YAML document of `kind` in `file` under deploy/kubernetes.
    static func manifest(_ file: String, kind: String? = nil) throws -> [String: Any] {
        let text = try String(contentsOf: deploy.appendingPathComponent(file), encoding: .utf8)
        let documents = try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
        return try #require(documents.first { kind == nil || $0["kind"] as? String == kind }, "\(file) has no \(kind ?? "document")")
    }

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The pod template's spec and its one container.
    static func pod() throws -> (spec: [String: Any], container: [String: Any]) {
        let deployment = try manifest("deployment.yaml", kind: "Deployment")
        let template = try #require((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])
        let spec = try #require(template["spec"] as? [String: Any])
        let container = try #require((spec["containers"] as? [[String: Any]])?.first)
        return (spec, container)
    }

    static func mountPath(of volume: String) throws -> (path: String, readOnly: Bool) {
        let mounts = try #require(try pod().container["volumeMounts"] as? [[String: Any]])
        let mount = try #require(mounts.first { $0["name"] as? String == volume }, "no mount of volume \(volume)")
        return (try #require(mount["mountPath"] as? String), mount["readOnly"] as? Bool ?? false)
    }

    /// The configuration as the pod sees it: the ConfigMap's files at the paths its volume items give, loaded
    /// the way `healer run --config` loads it.
    static func podConfiguration() async throws -> (HealerConfiguration, configPath: String) {
        let kustomization = try manifest("kustomization.yaml")
        let generator = try #require((kustomization["configMapGenerator"] as? [[String: Any]])?.first)
        let files = try #require(generator["files"] as? [String])
        let volumes = try #require(try pod().spec["volumes"] as? [[String: Any]])
        let config = try #require(volumes.first { $0["name"] as? String == "config" }?["configMap"] as? [String: Any])
        #expect(config["name"] as? String == generator["name"] as? String)
        let items = try #require(config["items"] as? [[String: Any]])
        let mount = try mountPath(of: "config").path
        return try await TemporaryDirectory.with(prefix: "pod") { directory in
            for file in files {
                let parts = file.split(separator: "=", maxSplits: 1).map(String.init)
                let item = try #require(items.first { $0["key"] as? String == parts[0] }, "no volume item for key \(parts[0])")
                let target = URL(fileURLWithPath: directory.path + mount).appendingPathComponent(try #require(item["path"] as? String))
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(contentsOf: deploy.appendingPathComponent(parts[1])).write(to: target)
            }
            let arguments = try #require(try pod().container["args"] as? [String])
            let configPath = try #require(arguments.firstIndex(of: "--config").map { arguments[$0 + 1] })
            return (try ConfigurationLoader.load(path: directory.path + configPath), configPath)
        }
    }

    @Test func theRoleGrantsExactlyWhatTheCodeCalls() throws {
        let role = try Self.manifest("rbac.yaml", kind: "Role")
        let rules = role["rules"] as? [[String: Any]] ?? []
        var granted: Set<KubernetesPermission> = []
        for rule in rules {
            for group in rule["apiGroups"] as? [String] ?? [] {
                for resource in rule["resources"] as? [String] ?? [] {
                    for verb in rule["verbs"] as? [String] ?? [] {
                        granted.insert(KubernetesPermission(group: group, resource: resource, verb: verb))
                    }
                }
            }
        }
        #expect(granted == Set(KubernetesPermission.all), "granted \(granted.sorted()), code uses \(KubernetesPermission.all.sorted())")
    }

    /// The pod's configuration loads, and every file and port it names is where the manifests put them.
    /// Two replicas, one leader: the configuration elects one, each replica has a unique identity and an address
    /// for forwarded alerts, the pod can reach the API server, and a budget keeps one replica through disruptions.
    @Test func twoReplicasElectALeaderAndOneSurvivesADisruption() async throws {
        let (configuration, _) = try await Self.podConfiguration()
        #expect(configuration.ha != nil, "two replicas without ha: would both act")
        let deployment = try Self.manifest("deployment.yaml", kind: "Deployment")
        let spec = try #require(deployment["spec"] as? [String: Any])
        #expect(spec["replicas"] as? Int == 2)
        let (pod, container) = try Self.pod()
        #expect(pod["automountServiceAccountToken"] as? Bool == true)
        let env = try #require(container["env"] as? [[String: Any]])
        let fields = Dictionary(
            uniqueKeysWithValues: env.compactMap { variable -> (String, String)? in
                guard let name = variable["name"] as? String,
                    let path = ((variable["valueFrom"] as? [String: Any])?["fieldRef"] as? [String: Any])?["fieldPath"] as? String
                else { return nil }
                return (name, path)
            })
        #expect(fields == ["POD_NAME": "metadata.name", "POD_IP": "status.podIP"])
        let budget = try Self.manifest("pdb.yaml", kind: "PodDisruptionBudget")
        let budgetSpec = try #require(budget["spec"] as? [String: Any])
        #expect(budgetSpec["minAvailable"] as? Int == 1)
        let selected = try #require((budgetSpec["selector"] as? [String: Any])?["matchLabels"] as? [String: String])
        let labels = try #require((spec["selector"] as? [String: Any])?["matchLabels"] as? [String: String])
        #expect(selected == labels)
        let resources = try #require(try Self.manifest("kustomization.yaml")["resources"] as? [String])
        #expect(resources.contains("pdb.yaml"))
    }

    @Test func theConfigurationFitsThePod() async throws {
        let (configuration, configPath) = try await Self.podConfiguration()
        let container = try Self.pod().container
        let stateDirectory = URL(fileURLWithPath: configuration.state.path).deletingLastPathComponent().path
        let state = try Self.mountPath(of: "state")
        #expect(state.path == stateDirectory && !state.readOnly, "state.path \(configuration.state.path) is not on the writable state volume")
        let tokenFile = try #require(configuration.server.bearerTokenFile, "the pod listens beyond loopback: it needs a token")
        let token = try Self.mountPath(of: "token")
        #expect(URL(fileURLWithPath: tokenFile).deletingLastPathComponent().path == token.path)
        let secret = try Self.manifest("secret.yaml", kind: "Secret")
        #expect((secret["stringData"] as? [String: Any])?[URL(fileURLWithPath: tokenFile).lastPathComponent] != nil)
        let port = try #require(ServerSettings.split(listen: configuration.server.listen)?.port)
        let ports = try #require(container["ports"] as? [[String: Any]])
        #expect(ports.contains { $0["name"] as? String == "http" && $0["containerPort"] as? Int == port })
        let service = try Self.manifest("service.yaml", kind: "Service")
        let servicePorts = try #require((service["spec"] as? [String: Any])?["ports"] as? [[String: Any]])
        #expect(servicePorts.contains { $0["name"] as? String == "http" && $0["targetPort"] as? String == "http" })
        let monitor = try Self.manifest("servicemonitor.yaml", kind: "ServiceMonitor")
        let endpoints = try #require((monitor["spec"] as? [String: Any])?["endpoints"] as? [[String: Any]])
        #expect(endpoints.allSatisfy { $0["port"] as? String == "http" })
        // The image runs the same configuration the same way.
        let dockerfile = try Self.text("Dockerfile")
        #expect(dockerfile.contains("EXPOSE \(port)"))
        #expect(dockerfile.contains(#"CMD ["run", "--config", "\#(configPath)""#))
        #expect(dockerfile.contains(#"VOLUME ["\#(stateDirectory)"]"#))
        let user = try #require(Self.pod().spec["securityContext"] as? [String: Any])["runAsUser"] as? Int
        #expect(dockerfile.contains("USER \(user ?? -1):"))
    }

    /// The probes and the scrape reach paths Healer serves.
    @Test func probesAndTheScrapeReachWhatHealerServes() async throws {
        let container = try Self.pod().container
        let liveness = try #require(((container["livenessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])?["path"] as? String)
        let readiness = try #require(((container["readinessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])?["path"] as? String)
        let monitor = try Self.manifest("servicemonitor.yaml", kind: "ServiceMonitor")
        let scrape = try #require(((monitor["spec"] as? [String: Any])?["endpoints"] as? [[String: Any]])?.first?["path"] as? String)
        try await ServerHarness.run { harness in
            let live = try await harness.get(liveness).status
            let ready = try await harness.get(readiness).status
            let metrics = try await harness.get(scrape).text
            #expect(live == 200)
            #expect([200, 503].contains(ready))  // 503 until a pass; never 404
            #expect(metrics.contains("healer_"))
        }
    }

    @Test func thePodRunsTheExampleRulesAndTheImageTheVersion() throws {
        #expect(try Self.text("deploy/kubernetes/config/rules/web.yaml") == Self.text("rules/web.yaml"))
        let images = try #require(try Self.manifest("kustomization.yaml")["images"] as? [[String: Any]])
        let version = try Self.text("VERSION").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(images.first?["newTag"] as? String == version)
    }

    /// The PrometheusRule carries the groups of rules/prometheus/healer-alerts.yml, unchanged.
    @Test func thePrometheusRuleIsTheAlertsFile() throws {
        func canonical(_ value: Any?) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: value ?? [], options: [.sortedKeys]), as: UTF8.self)
        }
        let rule = try Self.manifest("prometheusrule.yaml", kind: "PrometheusRule")
        let alerts = try #require(try Yams.load(yaml: Self.text("rules/prometheus/healer-alerts.yml")) as? [String: Any])
        #expect(try canonical((rule["spec"] as? [String: Any])?["groups"]) == canonical(alerts["groups"]))
    }
}
