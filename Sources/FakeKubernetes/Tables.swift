import Foundation

/// `meta.k8s.io/v1` Table answers, which kubectl asks for (`Accept: …;as=Table;…`) to print `kubectl get`.
enum Tables {
    struct Column {
        var name: String
        var type = "string"
        var format = ""
        var priority = 0
        var cell: (JSONValue) -> JSONValue
    }

    static func table(for type: ResourceType, objects: [JSONValue], resourceVersion: String, continue next: String? = nil) -> JSONValue {
        let columns = columns(for: type)
        let rows: [JSONValue] = objects.map { object in
            [
                "cells": .array(columns.map { $0.cell(object) }),
                "object": [
                    "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:],
                ],
            ]
        }
        var metadata: JSONValue = ["resourceVersion": .string(resourceVersion)]
        metadata["continue"] = next.map { .string($0) }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": .array(
                columns.map {
                    [
                        "name": .string($0.name), "type": .string($0.type), "format": .string($0.format), "description": "",
                        "priority": .number(Double($0.priority)),
                    ]
                }),
            "rows": .array(rows),
        ]
    }

    private static func columns(for type: ResourceType) -> [Column] {
        let name = Column(name: "Name", format: "name") { $0.value(at: "metadata.name") ?? "" }
        let age = Column(name: "Age") { .string(Timestamps.age(since: $0.value(at: "metadata.creationTimestamp")?.string.flatMap(Timestamps.parse))) }
        switch (type.storage, type.group) {
        case ("configmaps", _):
            return [
                name,
                Column(name: "Data", type: "integer") { map in
                    var count = 0
                    for field in ["data", "binaryData"] { if case .object(let members)? = map[field] { count += members.count } }
                    return .number(Double(count))
                },
                age,
            ]
        case ("pods", _):
            return [
                name,
                Column(name: "Ready") { pod in
                    let statuses = pod.value(at: "status.containerStatuses")?.array ?? []
                    let total = pod.value(at: "spec.containers")?.array?.count ?? statuses.count
                    return .string("\(statuses.filter { $0["ready"] == .bool(true) }.count)/\(total)")
                },
                Column(name: "Status") { pod in
                    pod.value(at: "metadata.deletionTimestamp") != nil ? "Terminating" : pod.value(at: "status.phase") ?? "Unknown"
                },
                Column(name: "Restarts", type: "string") { pod in
                    .string(
                        String(Int((pod.value(at: "status.containerStatuses")?.array ?? []).compactMap { $0["restartCount"]?.number }.reduce(0, +))))
                },
                age,
                Column(name: "IP", priority: 1) { $0.value(at: "status.podIP") ?? "<none>" },
                Column(name: "Node", priority: 1) { $0.value(at: "spec.nodeName") ?? "<none>" },
                Column(name: "Nominated Node", priority: 1) { _ in "<none>" },
                Column(name: "Readiness Gates", priority: 1) { pod in
                    let gates = (pod.value(at: "spec.readinessGates")?.array ?? []).compactMap { $0["conditionType"]?.string }
                    guard !gates.isEmpty else { return "<none>" }
                    let conditions = pod.value(at: "status.conditions")?.array ?? []
                    let met = gates.filter { gate in conditions.contains { $0["type"]?.string == gate && $0["status"]?.string == "True" } }
                    return .string("\(met.count)/\(gates.count)")
                },
            ]
        case ("events", ""):
            return [
                Column(name: "Last Seen") { event in
                    let time = (event["lastTimestamp"]?.string ?? event["eventTime"]?.string ?? event.value(at: "metadata.creationTimestamp")?.string)
                    return .string(Timestamps.age(since: time.flatMap(Timestamps.parse)))
                },
                Column(name: "Type") { $0["type"] ?? "" },
                Column(name: "Reason") { $0["reason"] ?? "" },
                Column(name: "Object") { event in
                    let kind = event.value(at: "involvedObject.kind")?.string?.lowercased() ?? ""
                    return .string("\(kind)/\(event.value(at: "involvedObject.name")?.string ?? "")")
                },
                Column(name: "Message") { $0["message"] ?? "" },
            ]
        default:
            return [name, age]
        }
    }
}
