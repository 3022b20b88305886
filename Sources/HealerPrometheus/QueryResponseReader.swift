package import Foundation
import SeriesLabels

/// Reads a successful `/api/v1/query` or `/api/v1/query_range` answer straight from its bytes.
///
/// The fast path of ``PrometheusClient``: a large vector costs it a few percent of what it costs
/// `JSONDecoder` (docs/scale.md). It handles exactly the answers that decode to a ``QueryResponse``; for
/// anything else (an error envelope, malformed JSON, a native histogram, a key with escapes) it returns `nil`
/// and the client decodes the body with `JSONDecoder`, which explains the problem.
package enum QueryResponseReader {
    /// The response, or `nil` when the body needs the slow path. With `keeping`, series keep only the labels
    /// named there (the others are skipped, not made into strings).
    package static func read(_ body: Data, keeping: Set<String>? = nil) -> QueryResponse? {
        guard let (made, warnings, infos) = read(body, keeping: keeping, asSeries: false), case .result(let result) = made else { return nil }
        return QueryResponse(result: result, warnings: warnings, infos: infos)
    }

    /// An instant query's answer, or `nil` when the body needs the slow path: an instant vector is read straight
    /// into ``SeriesSample``s, without the client's `Sample`s in between.
    package static func readInstant(_ body: Data, keeping: Set<String>? = nil) -> InstantAnswer? {
        guard let (made, warnings, infos) = read(body, keeping: keeping, asSeries: true) else { return nil }
        switch made {
        case .series(let samples): return InstantAnswer(result: .series(samples), warnings: warnings, infos: infos)
        case .result(let result): return InstantAnswer(QueryResponse(result: result, warnings: warnings, infos: infos))
        }
    }

    /// What an answer's result is read into: the client's model, or an instant vector's ``SeriesSample``s.
    private enum Made {
        case result(QueryResult)
        case series([SeriesSample])
    }

    private static func read(_ body: Data, keeping: Set<String>?, asSeries: Bool) -> (Made, warnings: [String], infos: [String])? {
        let filter = keeping.map(LabelFilter.init)
        return body.withUnsafeBytes { bytes in
            var scanner = JSONScanner(bytes)
            return try? readEnvelope(&scanner, filter: filter, asSeries: asSeries)
        }
    }

    /// The label names to keep, as bytes.
    struct LabelFilter {
        /// The names, one after the other.
        private let joined: [UInt8]
        /// Where each name is in `joined`.
        private let names: [(offset: Int, count: Int)]

        init(_ names: Set<String>) {
            var joined: [UInt8] = []
            self.names = names.map { name in
                defer { joined += name.utf8 }
                return (joined.count, name.utf8.count)
            }
            self.joined = joined
        }

        /// Whether the label named `name` is kept.
        @inline(__always)
        func keeps(_ name: UnsafeRawBufferPointer) -> Bool {
            joined.withUnsafeBytes { joined in
                names.contains { JSONScanner.same(UnsafeRawBufferPointer(rebasing: joined[$0.offset..<$0.offset + $0.count]), name) }
            }
        }
    }

    private static func readEnvelope(
        _ scanner: inout JSONScanner, filter: LabelFilter?, asSeries: Bool
    ) throws(JSONScanner.Failure) -> (Made, warnings: [String], infos: [String]) {
        var status: String?
        var result: Made?
        var warnings: [String] = []
        var infos: [String] = []
        var seen = SeenKeys()
        try scanner.readObject { scanner, key throws(JSONScanner.Failure) in
            try seen.note(key, among: ["status", "data", "warnings", "infos"])
            if key.is("status") {
                status = try scanner.readString()
            } else if key.is("data") {
                result = try readData(&scanner, filter: filter, asSeries: asSeries)
            } else if key.is("warnings") {
                warnings = try readStrings(&scanner)
            } else if key.is("infos") {
                infos = try readStrings(&scanner)
            } else {
                try scanner.skipValue()
            }
        }
        guard status == "success", let result, scanner.isAtEnd() else { throw JSONScanner.Failure() }
        return (result, warnings, infos)
    }

    private static func readData(_ scanner: inout JSONScanner, filter: LabelFilter?, asSeries: Bool) throws(JSONScanner.Failure) -> Made {
        var resultType: String?
        var result: Made?
        var deferred: JSONScanner?
        var seen = SeenKeys()
        try scanner.readObject { scanner, key throws(JSONScanner.Failure) in
            try seen.note(key, among: ["resultType", "result"])
            if key.is("resultType") {
                resultType = try scanner.readString()
            } else if key.is("result") {
                if let resultType {
                    result = try readResult(&scanner, type: resultType, filter: filter, asSeries: asSeries)
                } else {
                    // Prometheus writes resultType first; any other writer may not: come back to it.
                    deferred = scanner
                    try scanner.skipValue()
                }
            } else {
                try scanner.skipValue()
            }
        }
        if var deferred, let resultType { result = try readResult(&deferred, type: resultType, filter: filter, asSeries: asSeries) }
        guard let result else { throw JSONScanner.Failure() }
        return result
    }

    private static func readResult(_ scanner: inout JSONScanner, type: String, filter: LabelFilter?, asSeries: Bool) throws(JSONScanner.Failure)
        -> Made
    {
        // Every label set of the answer goes into one array; each series gets a slice of it.
        var labels: [Labels.Label] = []
        var memo = ReadState(filter: filter)
        switch type {
        case "vector":
            var read: [(labels: Range<Int>, point: Point, sorted: Bool)] = []
            try scanner.readArray { scanner throws(JSONScanner.Failure) in
                let previous = read.last?.labels ?? 0..<0
                let start = scanner.mark
                if let sample = readCompactSample(&scanner, into: &labels, previous: previous, memo: &memo) {
                    read.append(sample)
                } else {
                    memo.texts.forget()
                    memo.keptPrefix = nil
                    let (range, point) = try readSample(&scanner, into: &labels, previous: previous, memo: &memo)
                    read.append((range, point, false))
                }
                // The series of an answer are much alike: room for as many as the first one's length says the rest
                // holds, so that the arrays are not copied as they grow (a series takes at least 29 bytes).
                if read.count == 1 {
                    let expected = (scanner.count - scanner.mark) / max(29, scanner.mark - start) + 1
                    read.reserveCapacity(expected + 1)
                    labels.reserveCapacity((expected + 1) * labels.count)
                }
            }
            // A name twice in one label set: JSONDecoder keeps the first, a merge the last; leave it to JSONDecoder.
            for (range, _, sorted) in read where !sorted && Self.hasDuplicateNames(labels[range]) { throw JSONScanner.Failure() }
            func labelSet(_ range: Range<Int>, sorted: Bool) -> Labels {
                sorted ? Labels(alreadySorted: labels[range]) : Labels(reading: labels[range])
            }
            if asSeries { return .series(read.map { SeriesSample(labels: labelSet($0, sorted: $2), value: $1.value) }) }
            return .result(.vector(read.map { Sample(labels: labelSet($0, sorted: $2), point: $1) }))
        case "matrix":
            var read: [(Range<Int>, [Point])] = []
            try scanner.readArray { scanner throws(JSONScanner.Failure) in
                read.append(try readSeries(&scanner, into: &labels, previous: read.last?.0 ?? 0..<0, memo: &memo))
            }
            for (range, _) in read where Self.hasDuplicateNames(labels[range]) { throw JSONScanner.Failure() }
            return .result(.matrix(read.map { range, points in Series(labels: Labels(reading: labels[range]), points: points) }))
        case "scalar":
            var memo = ReadState()
            return .result(.scalar(try readPoint(&scanner, memo: &memo)))
        case "string":
            let (seconds, text) = try readPair(&scanner)
            return .result(.string(text, at: Date(timeIntervalSince1970: seconds)))
        default:
            throw JSONScanner.Failure()
        }
    }

    /// A sample exactly as Prometheus writes it (`{"metric":{"a":"b",...},"value":[1.5,"1"]}`, no white space,
    /// no escapes), or `nil` with the scanner back where it was and `labels` as they were. Four in five of
    /// the reader's steps on a large vector are saved this way; anything else takes the general path.
    private static func readCompactSample(
        _ scanner: inout JSONScanner, into labels: inout [Labels.Label], previous: Range<Int>, memo: inout ReadState
    ) -> (labels: Range<Int>, point: Point, sorted: Bool)? {
        let mark = scanner.mark
        let start = labels.endIndex
        let texts = memo.texts.previousCount
        func fail() -> (labels: Range<Int>, point: Point, sorted: Bool)? {
            scanner.reset(to: mark)
            labels.removeSubrange(start...)
            memo.texts.dropCurrent()
            return nil
        }
        // The series of an answer begin alike: when this one begins with the same bytes as the previous one up to
        // the value of the first label kept, the labels skipped before it are the same, and so is its name.
        var resumed: UnsafeRawBufferPointer?
        if texts > 0, previous.count == texts, let prefix = memo.keptPrefix, scanner.consume(sameAs: prefix.start, count: prefix.count) {
            resumed = memo.texts.previous(0).name
        } else {
            guard scanner.consume(literal: #"{"metric":{"#) else { return fail() }
        }
        var keptPrefix: Int?
        // The previous series' label texts are compared as bytes: the same text reuses its strings.
        var candidate = 0
        // Whether the names are in order, by their bytes (label names are ASCII, where byte order is string order).
        var sorted = true
        var lastName = UnsafeRawBufferPointer(start: nil, count: 0)
        if resumed != nil || !scanner.consume(byte: UInt8(ascii: "}")) {
            repeat {
                let name: UnsafeRawBufferPointer
                // The label resumed at is the previous series' first kept: kept again, without asking the filter.
                let kept: Bool
                if let known = resumed {
                    (name, kept) = (known, true)
                    resumed = nil
                } else {
                    guard let read = scanner.scanPlainString(), scanner.consume(byte: UInt8(ascii: ":")) else { return fail() }
                    (name, kept) = (read, memo.filter?.keeps(read) ?? true)
                }
                let valueAt = scanner.mark
                guard let value = scanner.scanPlainString() else { return fail() }
                if !kept { continue }
                if candidate == 0 { keptPrefix = valueAt - mark }
                var label: Labels.Label
                if candidate < texts, previous.count == texts, JSONScanner.same(memo.texts.previous(candidate).name, name) {
                    label = labels[previous.lowerBound + candidate]
                    if !JSONScanner.same(memo.texts.previous(candidate).value, value) { label.value = String(decoding: value, as: UTF8.self) }
                } else {
                    label = Labels.Label(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
                }
                labels.append(label)
                memo.texts.append(name: name, value: value)
                if sorted, candidate > 0 { sorted = JSONScanner.isASCIIOrdered(lastName, name) }
                lastName = name
                candidate += 1
            } while scanner.consume(byte: UInt8(ascii: ","))
            guard scanner.consume(byte: UInt8(ascii: "}")) else { return fail() }
        }
        guard scanner.consume(literal: #","value":["#),
            let seconds = scanner.consume(remembered: memo.timestamp, before: UInt8(ascii: ",")) ?? (try? scanner.readNumber(memo: &memo.timestamp)),
            scanner.consume(byte: UInt8(ascii: ",")), let text = scanner.scanPlainString(), scanner.consume(literal: "]}")
        else { return fail() }
        guard let value = memo.value.value(of: text) ?? PrometheusValue.parse(text) else { return fail() }
        memo.value.remember(text, value)
        // Only now is this series' text the one to compare the next with: a failure above keeps the previous one.
        memo.texts.keepCurrent()
        memo.keptPrefix = keptPrefix.map { (mark, $0) }
        return (start..<labels.endIndex, Point(timestamp: Date(timeIntervalSince1970: seconds), value: value), sorted)
    }

    /// `{"metric": {...}, "value": [...]}`: the labels are appended to `labels`; returns where they are.
    private static func readSample(
        _ scanner: inout JSONScanner, into labels: inout [Labels.Label], previous: Range<Int>, memo: inout ReadState
    ) throws(JSONScanner.Failure) -> (Range<Int>, Point) {
        var range = labels.endIndex..<labels.endIndex
        var point: Point?
        var seen = SeenKeys()
        try scanner.readObject { scanner, key throws(JSONScanner.Failure) in
            try seen.note(key, among: ["metric", "value", "histogram"])
            if key.is("metric") {
                range = try readLabels(&scanner, into: &labels, previous: previous, filter: memo.filter)
            } else if key.is("value") {
                point = try readPoint(&scanner, memo: &memo)
            } else if key.is("histogram") {
                throw JSONScanner.Failure()
            } else {
                try scanner.skipValue()
            }
        }
        guard let point else { throw JSONScanner.Failure() }
        return (range, point)
    }

    /// `{"metric": {...}, "values": [[...], ...]}`: the labels are appended to `labels`; returns where they are.
    private static func readSeries(
        _ scanner: inout JSONScanner, into labels: inout [Labels.Label], previous: Range<Int>, memo: inout ReadState
    ) throws(JSONScanner.Failure) -> (Range<Int>, [Point]) {
        var range = labels.endIndex..<labels.endIndex
        var points: [Point] = []
        var sawHistograms = false
        var sawValues = false
        var seen = SeenKeys()
        try scanner.readObject { scanner, key throws(JSONScanner.Failure) in
            try seen.note(key, among: ["metric", "values", "histograms"])
            if key.is("metric") {
                range = try readLabels(&scanner, into: &labels, previous: previous, filter: memo.filter)
            } else if key.is("values") {
                sawValues = true
                try scanner.readArray { scanner throws(JSONScanner.Failure) in points.append(try readPoint(&scanner, memo: &memo)) }
            } else {
                if key.is("histograms") { sawHistograms = true }
                try scanner.skipValue()
            }
        }
        if sawHistograms, !sawValues { throw JSONScanner.Failure() }
        return (range, points)
    }

    /// Appends the labels of a `metric` object (or `null`) to `labels`; returns where they are. A name (and a
    /// value) equal to the one at the same place in the `previous` series is not made into a string again (the
    /// series of one answer mostly have the same names, and many the same values).
    private static func readLabels(
        _ scanner: inout JSONScanner, into labels: inout [Labels.Label], previous: Range<Int>, filter: LabelFilter?
    ) throws(JSONScanner.Failure) -> Range<Int> {
        let start = labels.endIndex
        if try scanner.readNull() { return start..<start }
        var candidate = previous.lowerBound
        try scanner.readObject { scanner, key throws(JSONScanner.Failure) in
            if let filter, !filter.keeps(key.bytes) {
                _ = try scanner.readString()
                return
            }
            var same: Labels.Label?
            if candidate < previous.upperBound, JSONScanner.equal(key.bytes, labels[candidate].name) { same = labels[candidate] }
            labels.append(Labels.Label(name: same?.name ?? key.string, value: try scanner.readString(reusing: same?.value)))
            candidate += 1
        }
        return start..<labels.endIndex
    }

    /// Whether a label name occurs twice.
    private static func hasDuplicateNames(_ labels: ArraySlice<Labels.Label>) -> Bool {
        labels.count > 1 && Set(labels.map(\.name)).count != labels.count
    }

    /// The keys of one object seen so far, among those the reader reads: one seen twice makes the answer go to
    /// `JSONDecoder`, which keeps the first (a reader that kept the last would disagree with it).
    struct SeenKeys {
        private var seen: [Bool] = []

        mutating func note(_ key: JSONScanner.Key, among names: [StaticString]) throws(JSONScanner.Failure) {
            if seen.isEmpty { seen = Array(repeating: false, count: names.count) }
            guard let index = names.firstIndex(where: { key.is($0) }) else { return }
            if seen[index] { throw JSONScanner.Failure() }
            seen[index] = true
        }
    }

    /// What reading an answer carries from series to series: the labels to keep, and the last texts read.
    struct ReadState {
        var filter: LabelFilter?
        var timestamp = JSONScanner.NumberMemo()
        var value = JSONScanner.NumberMemo()
        /// The label texts of the previous compact series and of the one being read.
        var texts = LabelTexts()
        /// Where the previous compact series starts, and how many of its bytes come before the value of its first
        /// label kept (`nil` when it kept none).
        var keptPrefix: (start: Int, count: Int)?
    }

    /// The label texts (into the body, valid while it is read) of the previous compact series, and of the one
    /// being read: two buffers that swap roles and are written over, so that a series costs no allocation.
    struct LabelTexts {
        typealias Text = (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
        private var previousTexts: [Text] = []
        private var currentTexts: [Text] = []
        /// How many texts the previous series has.
        private(set) var previousCount = 0
        private var currentCount = 0

        /// The previous series' text at `index` (below ``previousCount``).
        @inline(__always)
        func previous(_ index: Int) -> Text { previousTexts[index] }

        /// Adds a text of the series being read.
        @inline(__always)
        mutating func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
            if currentCount < currentTexts.count {
                currentTexts[currentCount] = (name, value)
            } else {
                currentTexts.append((name, value))
            }
            currentCount += 1
        }

        /// The series being read was not compact: the previous texts stay.
        mutating func dropCurrent() {
            currentCount = 0
        }

        /// The series read becomes the previous one.
        @inline(__always)
        mutating func keepCurrent() {
            swap(&previousTexts, &currentTexts)
            previousCount = currentCount
            currentCount = 0
        }

        /// No previous series to compare with.
        mutating func forget() {
            previousCount = 0
            currentCount = 0
        }
    }

    /// `[<number>, "<value>"]`, the value read from its bytes.
    private static func readPoint(_ scanner: inout JSONScanner, memo: inout ReadState) throws(JSONScanner.Failure) -> Point {
        var seconds: Double?
        var value: Double?
        try scanner.readArray { scanner throws(JSONScanner.Failure) in
            if seconds == nil {
                seconds = try scanner.readNumber(memo: &memo.timestamp)
            } else if value == nil, let text = try scanner.readPlainString() {
                value = memo.value.value(of: text) ?? PrometheusValue.parse(text)
                guard let value else { throw JSONScanner.Failure() }
                memo.value.remember(text, value)
            } else {
                throw JSONScanner.Failure()
            }
        }
        guard let seconds, let value else { throw JSONScanner.Failure() }
        return Point(timestamp: Date(timeIntervalSince1970: seconds), value: value)
    }

    /// `[<number>, "<text>"]`
    private static func readPair(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> (Double, String) {
        var seconds: Double?
        var text: String?
        try scanner.readArray { scanner throws(JSONScanner.Failure) in
            if seconds == nil {
                seconds = try scanner.readNumber()
            } else if text == nil {
                text = try scanner.readString()
            } else {
                throw JSONScanner.Failure()
            }
        }
        guard let seconds, let text else { throw JSONScanner.Failure() }
        return (seconds, text)
    }

    private static func readStrings(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> [String] {
        if try scanner.readNull() { return [] }
        var strings: [String] = []
        try scanner.readArray { scanner throws(JSONScanner.Failure) in strings.append(try scanner.readString()) }
        return strings
    }
}
