import Foundation

/// ConfigMaps validated as the API server validates them: keys of `[-._a-zA-Z0-9]`, string values, and at most
/// 1 MiB of keys and values together (`data` and `binaryData`).
enum ConfigMaps {
    static let maxBytes = 1_048_576

    static func validate(_ map: JSONValue) throws(FakeAPIError) {
        let name = map.value(at: "metadata.name")?.string ?? ""
        var problems: [String] = []
        var total = 0
        for field in ["data", "binaryData"] {
            guard let entries = map[field], entries != .null else { continue }
            guard case .object(let members) = entries else {
                problems.append("\(field): Invalid value: must be an object")
                continue
            }
            for (key, value) in members {
                if key.isEmpty || key.contains(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0))) }) {
                    problems.append(
                        "\(field)[\(key)]: Invalid value: \"\(key)\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'")
                }
                guard let text = value.string else {
                    problems.append("\(field)[\(key)]: Invalid value: must be a string")
                    continue
                }
                total += key.utf8.count + text.utf8.count
            }
        }
        if total > maxBytes { problems.append("[]: Too long: must have at most \(maxBytes) bytes") }
        guard problems.isEmpty else { throw .invalid("ConfigMap \"\(name)\" is invalid: " + problems.joined(separator: ", ")) }
    }
}
