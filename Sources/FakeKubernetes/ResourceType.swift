/// A kind of object the fake API server serves, as its discovery documents describe it.
struct ResourceType: Sendable, Hashable {
    /// The API group; `""` for the core group.
    var group: String
    var version: String
    /// The plural name in URLs: `pods`.
    var name: String
    var kind: String
    var namespaced: Bool
    var shortNames: [String] = []
    var verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    /// Where objects are kept: events of both groups share one store.
    var storage: String

    /// `v1` or `apps/v1`.
    var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    static let all: [ResourceType] = [
        ResourceType(group: "", version: "v1", name: "pods", kind: "Pod", namespaced: true, shortNames: ["po"], storage: "pods"),
        ResourceType(group: "", version: "v1", name: "events", kind: "Event", namespaced: true, shortNames: ["ev"], storage: "events"),
        ResourceType(group: "", version: "v1", name: "nodes", kind: "Node", namespaced: false, shortNames: ["no"], storage: "nodes"),
        ResourceType(group: "", version: "v1", name: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"], storage: "configmaps"),
        ResourceType(group: "", version: "v1", name: "namespaces", kind: "Namespace", namespaced: false, shortNames: ["ns"], storage: "namespaces"),
        ResourceType(
            group: "apps", version: "v1", name: "replicasets", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"], storage: "replicasets"),
        ResourceType(
            group: "apps", version: "v1", name: "deployments", kind: "Deployment", namespaced: true, shortNames: ["deploy"], storage: "deployments"),
        ResourceType(
            group: "apps", version: "v1", name: "statefulsets", kind: "StatefulSet", namespaced: true, shortNames: ["sts"], storage: "statefulsets"),
        ResourceType(
            group: "policy", version: "v1", name: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true, shortNames: ["pdb"],
            storage: "poddisruptionbudgets"),
        ResourceType(group: "events.k8s.io", version: "v1", name: "events", kind: "Event", namespaced: true, shortNames: ["ev"], storage: "events"),
        ResourceType(group: "coordination.k8s.io", version: "v1", name: "leases", kind: "Lease", namespaced: true, storage: "leases"),
    ]

    /// The subresources, as discovery lists them (`pods/status`, `pods/eviction`).
    static let subresources: [String: [JSONValue]] = [
        "v1": [
            [
                "name": "pods/status", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get", "patch", "update"],
            ],
            [
                "name": "pods/eviction", "singularName": "", "namespaced": true, "group": "policy", "version": "v1", "kind": "Eviction",
                "verbs": ["create"],
            ],
            ["name": "nodes/status", "singularName": "", "namespaced": false, "kind": "Node", "verbs": ["get", "patch", "update"]],
        ]
    ]

    /// The groups other than core, in discovery order.
    static var groups: [String] {
        var seen: [String] = []
        for type in all where !type.group.isEmpty && !seen.contains(type.group) { seen.append(type.group) }
        return seen
    }

    /// The type served at `groupVersion` under `name`.
    static func find(groupVersion: String, name: String) -> ResourceType? {
        all.first { $0.groupVersion == groupVersion && $0.name == name }
    }

    /// The `APIResource` discovery entry.
    var discoveryEntry: JSONValue {
        [
            "name": .string(name), "singularName": .string(kind.lowercased()), "namespaced": .bool(namespaced), "kind": .string(kind),
            "verbs": .array(verbs.map { .string($0) }), "shortNames": .array(shortNames.map { .string($0) }),
        ]
    }
}

/// The discovery documents: `/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`.
enum Discovery {
    static func document(for path: String) -> JSONValue? {
        switch path {
        case "/api":
            return [
                "kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"]],
            ]
        case "/apis":
            let groups: [JSONValue] = ResourceType.groups.map { group in
                let version = ResourceType.all.first { $0.group == group }!.version
                let entry: JSONValue = ["groupVersion": .string("\(group)/\(version)"), "version": .string(version)]
                return ["name": .string(group), "versions": [entry], "preferredVersion": entry]
            }
            return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
        case "/version":
            return [
                "major": "1", "minor": "32", "gitVersion": "v1.32.0-healer-fake", "platform": "linux/amd64", "goVersion": "go1.23",
                "compiler": "gc", "gitCommit": "0", "gitTreeState": "clean", "buildDate": "2026-11-30T00:00:00Z",
            ]
        default:
            let groupVersion = path.hasPrefix("/api/") ? String(path.dropFirst("/api/".count)) : String(path.dropFirst("/apis/".count))
            let types = ResourceType.all.filter { $0.groupVersion == groupVersion }
            guard !types.isEmpty, path.hasPrefix("/api/") == types[0].group.isEmpty else { return nil }
            let resources = types.map(\.discoveryEntry) + (ResourceType.subresources[groupVersion] ?? [])
            return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion), "resources": .array(resources)]
        }
    }

    /// `/apis/{group}`: the group alone.
    static func group(_ name: String) -> JSONValue? {
        guard let type = ResourceType.all.first(where: { $0.group == name }) else { return nil }
        let entry: JSONValue = ["groupVersion": .string(type.groupVersion), "version": .string(type.version)]
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": [entry], "preferredVersion": entry]
    }
}
