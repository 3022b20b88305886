#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// How Healer writes its values as JSON (the state file, the decision journal, the API) and reads them back.
///
/// A rule's value can be anything Prometheus returns — `x / 0` is `+Inf` — and JSON has no number for it: a plain
/// `JSONEncoder` throws, which once made every save fail and so every pass do nothing. Non-finite numbers are
/// written as Prometheus writes them, `"+Inf"`, `"-Inf"` and `"NaN"`, and read back from the same strings.
public enum HealerJSON {
    /// An encoder that writes every `Double`, finite or not; keys sorted. Dates are Unix seconds (the API), or
    /// Foundation's default (the state file, which has always been written that way) when `unixDates` is off.
    public static func encoder(unixDates: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "+Inf", negativeInfinity: "-Inf", nan: "NaN")
        if unixDates { encoder.dateEncodingStrategy = .secondsSince1970 }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A decoder that reads what ``encoder(unixDates:)`` writes.
    public static func decoder(unixDates: Bool = true) -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "+Inf", negativeInfinity: "-Inf", nan: "NaN")
        if unixDates { decoder.dateDecodingStrategy = .secondsSince1970 }
        return decoder
    }
}
