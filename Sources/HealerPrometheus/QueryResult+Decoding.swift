import Foundation
import SeriesLabels

/// The `data` of a query response: `{"resultType": ..., "result": ...}`.
struct QueryData: Decodable {
    var result: QueryResult

    private enum CodingKeys: String, CodingKey { case resultType, result }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .resultType)
        switch type {
        case "vector":
            result = .vector(try container.decode([WireSample].self, forKey: .result).map(\.sample))
        case "matrix":
            result = .matrix(try container.decode([WireSeries].self, forKey: .result).map(\.series))
        case "scalar":
            result = .scalar(try container.decode(WirePoint.self, forKey: .result).point)
        case "string":
            let pair = try container.decode(WireString.self, forKey: .result)
            result = .string(pair.text, at: pair.timestamp)
        default:
            throw DecodingError.dataCorruptedError(forKey: .resultType, in: container, debugDescription: "unknown resultType \"\(type)\"")
        }
    }
}

/// `[<unix seconds as number>, "<value as string>"]`.
struct WirePoint: Decodable {
    var point: Point

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let seconds = try container.decode(Double.self)
        let text = try container.decode(String.self)
        guard let value = PrometheusValue.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "sample value \"\(text)\" is not a number")
        }
        point = Point(timestamp: Date(timeIntervalSince1970: seconds), value: value)
    }
}

/// `[<unix seconds>, "<text>"]` of a string result.
struct WireString: Decodable {
    var timestamp: Date
    var text: String

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        timestamp = Date(timeIntervalSince1970: try container.decode(Double.self))
        text = try container.decode(String.self)
    }
}

private enum SampleKeys: String, CodingKey { case metric, value, values, histogram, histograms }

/// `{"metric": {...}, "value": [ts, "v"]}`; native histograms (`"histogram"`) are refused by name.
struct WireSample: Decodable {
    var sample: Sample

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: SampleKeys.self)
        let labels = try container.decodeIfPresent(Labels.self, forKey: .metric) ?? [:]
        guard container.contains(.value) else {
            throw DecodingError.dataCorruptedError(
                forKey: .value, in: container,
                debugDescription: container.contains(.histogram)
                    ? "series \(labels) is a native histogram; Healer needs float samples (use histogram_quantile or histogram_count)"
                    : "sample of \(labels) has no value")
        }
        sample = Sample(labels: labels, point: try container.decode(WirePoint.self, forKey: .value).point)
    }
}

/// `{"metric": {...}, "values": [[ts, "v"], ...]}`.
struct WireSeries: Decodable {
    var series: Series

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: SampleKeys.self)
        let labels = try container.decodeIfPresent(Labels.self, forKey: .metric) ?? [:]
        if container.contains(.histograms), !container.contains(.values) {
            throw DecodingError.dataCorruptedError(
                forKey: .histograms, in: container, debugDescription: "series \(labels) is a native histogram; Healer needs float samples")
        }
        let points = try container.decodeIfPresent([WirePoint].self, forKey: .values) ?? []
        series = Series(labels: labels, points: points.map(\.point))
    }
}

/// Sample values as Prometheus writes them (Go's `strconv.FormatFloat`).
public enum PrometheusValue {
    /// Parses `"1"`, `"0.25"`, `"1e-300"`, `"NaN"`, `"+Inf"`, `"-Inf"`; `nil` for anything else.
    public static func parse(_ text: String) -> Double? {
        switch text {
        case "NaN": return .nan
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        default: return Double(text).flatMap { $0.isFinite ? $0 : nil }
        }
    }

    /// ``parse(_:)`` of a value's UTF-8 bytes, without making a string of the common numbers.
    static func parse(_ text: UnsafeRawBufferPointer) -> Double? {
        guard let first = text.first, first &- UInt8(ascii: "0") < 10 || first == UInt8(ascii: "-") || first == UInt8(ascii: ".") else {
            return parse(String(decoding: text, as: UTF8.self))
        }
        if text.count >= 2, first == UInt8(ascii: "-"), text[1] == UInt8(ascii: "I") { return parse(String(decoding: text, as: UTF8.self)) }
        return JSONScanner.double(text).flatMap { $0.isFinite ? $0 : nil }
    }

    /// Formats a value the way Prometheus does for the special values, and as Swift's shortest form otherwise.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
