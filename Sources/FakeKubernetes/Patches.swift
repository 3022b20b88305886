import Foundation

/// The three patch formats the API server takes.
enum Patches {
    /// The list fields merged by a key in a strategic-merge patch (Kubernetes' `patchMergeKey` tags), by path.
    static let mergeKeys: [String: String] = [
        "status.conditions": "type", "spec.containers": "name", "spec.initContainers": "name", "status.containerStatuses": "name",
        "spec.readinessGates": "conditionType", "metadata.ownerReferences": "uid", "spec.volumes": "name", "spec.taints": "key",
        "spec.template.spec.containers": "name", "spec.template.spec.readinessGates": "conditionType",
    ]

    /// RFC 7386: objects merge, `null` removes, anything else replaces.
    static func merge(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let members) = patch else { return patch }
        var result: [String: JSONValue] = if case .object(let existing) = target { existing } else { [:] }
        for (key, value) in members {
            if value == .null {
                result[key] = nil
            } else {
                result[key] = merge(result[key] ?? .null, value)
            }
        }
        return .object(result)
    }

    /// A strategic-merge patch: as a merge patch, but lists with a merge key merge element by element (an
    /// element `{"$patch": "delete", key: …}` removes one), and `$setElementOrder/…` and `$retainKeys` directives
    /// are understood well enough to be ignored.
    static func strategicMerge(_ target: JSONValue, _ patch: JSONValue, path: String = "") -> JSONValue {
        guard case .object(let members) = patch else { return patch }
        var result: [String: JSONValue] = if case .object(let existing) = target { existing } else { [:] }
        for (key, value) in members {
            if key.hasPrefix("$setElementOrder/") || key == "$retainKeys" { continue }
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            if value == .null {
                result[key] = nil
            } else if case .array(let patchElements) = value, let mergeKey = mergeKeys[childPath] {
                var elements = result[key]?.array ?? []
                for element in patchElements {
                    let id = element[mergeKey]
                    let index = elements.firstIndex { $0[mergeKey] == id }
                    if element["$patch"]?.string == "delete" {
                        if let index { elements.remove(at: index) }
                    } else if let index {
                        elements[index] = strategicMerge(elements[index], element, path: childPath)
                    } else {
                        elements.append(element)
                    }
                }
                result[key] = .array(elements)
            } else {
                result[key] = strategicMerge(result[key] ?? .null, value, path: childPath)
            }
        }
        return .object(result)
    }

    /// RFC 6902 (`add`, `remove`, `replace`, `test`), the operations kubectl's `--type=json` sends.
    static func jsonPatch(_ target: JSONValue, _ patch: JSONValue) throws(FakeAPIError) -> JSONValue {
        guard let operations = patch.array else { throw .badRequest("a JSON patch is an array of operations") }
        var result = target
        for operation in operations {
            guard let op = operation["op"]?.string, let pointer = operation["path"]?.string else { throw .badRequest("bad JSON patch operation") }
            let keys = pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
                $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            }
            switch op {
            case "add", "replace":
                guard let value = operation["value"] else { throw .badRequest("\(op) without a value") }
                result = try apply(result, keys: ArraySlice(keys), value: value, replace: op == "replace")
            case "remove":
                result = try apply(result, keys: ArraySlice(keys), value: nil, replace: true)
            case "test":
                guard get(result, keys: ArraySlice(keys)) == operation["value"] else { throw .invalid("the test operation failed at \(pointer)") }
            default:
                throw .badRequest("unsupported JSON patch operation \(op)")
            }
        }
        return result
    }

    private static func get(_ value: JSONValue, keys: ArraySlice<String>) -> JSONValue? {
        guard let key = keys.first else { return value }
        switch value {
        case .object(let members): return members[key].flatMap { get($0, keys: keys.dropFirst()) }
        case .array(let elements):
            guard let index = Int(key), elements.indices.contains(index) else { return nil }
            return get(elements[index], keys: keys.dropFirst())
        default: return nil
        }
    }

    private static func apply(_ value: JSONValue, keys: ArraySlice<String>, value new: JSONValue?, replace: Bool) throws(FakeAPIError)
        -> JSONValue
    {
        guard let key = keys.first else { return new ?? .null }
        switch value {
        case .object(var members):
            if keys.count == 1 {
                if replace, members[key] == nil { throw .invalid("no value at /\(key)") }
                members[key] = new
            } else {
                guard let child = members[key] else { throw .invalid("no value at /\(key)") }
                members[key] = try apply(child, keys: keys.dropFirst(), value: new, replace: replace)
            }
            return .object(members)
        case .array(var elements):
            let index = key == "-" ? elements.count : Int(key) ?? -1
            guard index >= 0, index <= elements.count else { throw .invalid("bad index \(key)") }
            if keys.count == 1 {
                if let new {
                    if replace { elements[index] = new } else { elements.insert(new, at: index) }
                } else {
                    elements.remove(at: index)
                }
            } else {
                elements[index] = try apply(elements[index], keys: keys.dropFirst(), value: new, replace: replace)
            }
            return .array(elements)
        default:
            throw .invalid("cannot descend into a scalar at \(key)")
        }
    }
}
