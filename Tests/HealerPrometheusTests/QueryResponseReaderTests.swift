import Foundation
import HealerTesting
import PropertyBased
import SeriesLabels
import Testing

@testable import HealerPrometheus

/// The byte-level reader must agree with `JSONDecoder` on every answer it accepts, and hand back everything
/// else (errors, malformed bodies, histograms) to it.
@Suite("Fast query answer reader")
struct QueryResponseReaderTests {
    static func fixture(_ name: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        return try Data(contentsOf: url)
    }

    @Test(arguments: ["vector_up", "vector_empty", "vector_special", "matrix_up", "scalar_inf", "string", "warnings_partial_response"])
    func capturedAnswersReadAsJSONDecoderReadsThem(_ name: String) throws {
        let body = try Self.fixture(name)
        let fast = try #require(QueryResponseReader.read(body))
        let reference = try PrometheusClient.decodeWithJSONDecoder(body)
        #expect(fast.result == reference.result)
        #expect(fast.warnings == reference.warnings)
        #expect(fast.infos == reference.infos)
        // Read for the engine: the same answer, an instant vector as its samples.
        #expect(QueryResponseReader.readInstant(body) == InstantAnswer(reference))
    }

    /// Every length up to three words, every place for a difference: the overlapping word comparisons must agree with
    /// comparing byte by byte.
    @Test func bytesCompareAsTheyAreAtEveryLengthAndPlace() {
        for count in 0...24 {
            let text = (0..<count).map { UInt8(truncatingIfNeeded: 0x41 + $0) }
            text.withUnsafeBytes { a in
                #expect(JSONScanner.same(a, UnsafeRawBufferPointer(rebasing: a[...])))
                for place in 0..<count {
                    var other = text
                    other[place] ^= 0x20
                    other.withUnsafeBytes { b in #expect(!JSONScanner.same(a, b), "length \(count), difference at \(place)") }
                }
            }
        }
    }

    @Test(arguments: ["error_bad_data", "error_execution", "error_timeout", "error_victoriametrics", "vector_native_histogram"])
    func errorsAndHistogramsGoToTheExplainingPath(_ name: String) throws {
        #expect(QueryResponseReader.read(try Self.fixture(name)) == nil)
    }

    @Test(arguments: [
        "", "{", #"{"status":"success","data":{"resultType":"vector","result":[]}} x"#,
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"\ud800"},"value":[1,"1"]}]}}"#,
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[01,"1"]}]}}"#,
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"one"]}]}}"#,
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1",2]}]}}"#,
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"a\":\"\u{1}\"},\"value\":[1,\"1\"]}]}}",
    ])
    func malformedOrUnusualBodiesAreRefused(_ text: String) {
        #expect(QueryResponseReader.read(Data(text.utf8)) == nil)
    }

    /// The compact path reuses the previous series' strings and numbers only when the text is the same.
    @Test func textsRepeatedFromSeriesToSeriesAreReusedOnlyWhenEqual() throws {
        let series = [
            #"{"metric":{"a":"x","b":"y"},"value":[1.5,"1"]}"#, #"{"metric":{"a":"x","b":"z"},"value":[1.5,"1"]}"#,
            #"{"metric":{"a":"x"},"value":[1.25,"10"]}"#, #"{"metric":{"a":"x","c":"z"},"value":[1.25,"1"]}"#,
            #"{"metric":{"a":"\u0078","c":"z"},"value":[1.5,"1"]}"#, #"{ "metric": {"a":"x","c":"z"}, "value": [1.5, "1"] }"#,
            #"{"metric":{"a":"x","c":"z"},"value":[1.5,"1"]}"#, #"{"metric":{},"value":[1.55,"1e3"]}"#,
        ]
        let body = Data((#"{"status":"success","data":{"resultType":"vector","result":["# + series.joined(separator: ",") + "]}}").utf8)
        let fast = try #require(QueryResponseReader.read(body))
        #expect(fast.result == (try PrometheusClient.decodeWithJSONDecoder(body)).result)
        guard case .vector(let samples) = fast.result else { Issue.record("not a vector"); return }
        #expect(
            samples.map(\.labels) == [
                ["a": "x", "b": "y"], ["a": "x", "b": "z"], ["a": "x"], ["a": "x", "c": "z"], ["a": "x", "c": "z"], ["a": "x", "c": "z"],
                ["a": "x", "c": "z"], [:],
            ])
        #expect(samples.map(\.value) == [1, 1, 10, 1, 1, 1, 1, 1000])
        // 1.55 starts with the previous timestamp's text, 1.5: it must be read, not reused.
        let expected = [1.5, 1.5, 1.25, 1.25, 1.5, 1.5, 1.5, 1.55]
        #expect(zip(samples.map(\.timestamp.timeIntervalSince1970), expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    /// A series that begins with the same bytes as the previous one, up to the value of the first label kept, is
    /// read from there; a difference before it, a previous series that kept no label, or one read on the general
    /// path makes the next series read from its start.
    @Test(arguments: [nil, ["server"]] as [Set<String>?])
    func seriesThatBeginAlikeReadAsJSONDecoderReadsThem(_ keeping: Set<String>?) throws {
        let series = [
            #"{"metric":{"instance":"a","server":"s1"},"value":[1,"1"]}"#, #"{"metric":{"instance":"a","server":"s2"},"value":[1,"2"]}"#,
            #"{"metric":{"instance":"a","xerver":"s9"},"value":[1,"3"]}"#, #"{"metric":{"instance":"b","server":"s2"},"value":[1,"4"]}"#,
            #"{"metric":{"instance":"b","server":"s2","zone":"z"},"value":[1,"5"]}"#,
            #"{"metric":{"instance":"b","server":"s3"},"value":[1,"6"]}"#, #"{"metric":{"instance":"b","serverx":"s3"},"value":[1,"7"]}"#,
            #"{"metric":{"instance":"b","server":"s3"},"value":[1,"8"]}"#, #"{"metric":{"instancf":"b","server":"s3"},"value":[1,"9"]}"#,
            #"{ "metric":{"instance":"b","server":"s4"},"value":[1,"10"]}"#, #"{"metric":{"instance":"b","server":"s5"},"value":[1,"11"]}"#,
            #"{"metric":{"instance":"b","server":"s5"},"value":[1,"12"]}"#, #"{"metric":{"instance":"b"},"value":[1,"13"]}"#,
            // A resumed series whose kept value needs the general path, then timestamps that begin like the last one.
            #"{"metric":{"instance":"b","server":"s\u0036"},"value":[1,"14"]}"#, #"{"metric":{"instance":"b","server":"s6"},"value":[10,"15"]}"#,
            #"{"metric":{"instance":"b","server":"s6"},"value":[ 10,"16"]}"#, #"{"metric":{"instance":"b","server":"s7"},"value":[1.5,"17"]}"#,
        ]
        let body = Data((#"{"status":"success","data":{"resultType":"vector","result":["# + series.joined(separator: ",") + "]}}").utf8)
        let reference = try PrometheusClient.decodeWithJSONDecoder(body).result
        let fast = try #require(QueryResponseReader.read(body, keeping: keeping))
        #expect(fast.result == (keeping.map { reference.keepingLabels($0) } ?? reference))
        guard case .vector(let samples) = fast.result else { Issue.record("not a vector"); return }
        #expect(
            samples.map { $0.labels["server"] } == [
                "s1", "s2", nil, "s2", "s2", "s3", nil, "s3", "s3", "s4", "s5", "s5", nil, "s6", "s6", "s6", "s7",
            ])
        #expect(samples.map(\.value) == Array(1...17).map(Double.init))
        #expect(samples.suffix(4).map(\.timestamp.timeIntervalSince1970) == [1, 10, 10, 1.5])
    }

    @Test func keysInAnyOrderAreRead() throws {
        let body = Data(#"{"data":{"result":[{"value":[2,"1"],"metric":{"a":"b"}}],"resultType":"vector"},"status":"success"}"#.utf8)
        let response = try #require(QueryResponseReader.read(body))
        #expect(response.result == .vector([Sample(labels: ["a": "b"], point: Point(timestamp: Date(timeIntervalSince1970: 2), value: 1))]))
    }

    @Test func escapesAndWhiteSpaceAreRead() throws {
        let text = """
            { "status" : "success", "extra": [true, false, null, {"x": -1.5e3}],
              "data" : { "resultType" : "vector", "result" : [
                { "metric" : { "b" : "tab\\there", "a" : "quote\\" slash\\/ \\u00e9 \\ud83d\\ude00" }, "value" : [ 1.5 , "-Inf" ] } ] } }
            """
        let response = try #require(QueryResponseReader.read(Data(text.utf8)))
        guard case .vector(let samples) = response.result else { Issue.record("not a vector"); return }
        #expect(samples[0].labels == ["a": "quote\" slash/ é 😀", "b": "tab\there"])
        #expect(samples[0].labels.names == ["a", "b"])  // sorted although the answer was not
        #expect(samples[0].value == -.infinity)
        #expect(samples[0].timestamp == Date(timeIntervalSince1970: 1.5))
    }

    /// Random label sets (any Unicode, escaped as JSONEncoder escapes it) and values in every form Go writes.
    @Test func randomVectorsReadAsJSONDecoderReadsThem() async throws {
        let names = ["a", "job", "instance", "__name__", "le", "server"]
        let text = Gen.character(in: "\u{0}"..."\u{2FFF}").string(of: 0...12)
        let label = zip(Gen.int(in: 0...5).map { names[$0] }, text)
        let value = zip(Gen.double(in: -1e6...1e6), Gen.int(in: 0...9))
        let series = zip(label.array(of: 0...5), value, Gen.int(in: 1_000_000_000...2_000_000_000), Gen.int(in: 0...999))
        await propertyCheck(count: 200, input: series.array(of: 0...20)) { series in
            var result: [[String: Any]] = []
            for (labels, (number, form), seconds, millis) in series {
                let values = [
                    String(number), String(format: "%.3f", number), String(format: "%g", number), String(format: "%e", number), "NaN", "+Inf",
                    "-Inf", "0", String(Int(number)), String(format: "%.17g", number),
                ]
                result.append([
                    "metric": Dictionary(labels, uniquingKeysWith: { $1 }),
                    "value": [Double(seconds) + Double(millis) / 1000, values[form]],
                ])
            }
            let body = try JSONSerialization.data(
                withJSONObject: ["status": "success", "data": ["resultType": "vector", "result": result]], options: [.sortedKeys])
            let fast = try #require(QueryResponseReader.read(body))
            let reference = try PrometheusClient.decodeWithJSONDecoder(body).result
            #expect(fast.result == reference)
            // Keeping some labels reads the same as dropping the others afterwards.
            let kept: Set<String> = ["server", "job"]
            #expect(try #require(QueryResponseReader.read(body, keeping: kept)).result == reference.keepingLabels(kept))
            let instant = InstantAnswer(QueryResponse(result: reference.keepingLabels(kept)))
            #expect(QueryResponseReader.readInstant(body, keeping: kept) == instant)
        }
    }

    @Test func decimalsParseExactlyAsTheCLibraryParsesThem() async {
        let digits = Gen.int(in: 0...9).array(of: 1...22)
        await propertyCheck(count: 2000, input: digits, Gen.int(in: 0...22), Gen.bool()) { digits, point, negative in
            var text = digits.map(String.init).joined()
            if point < text.count { text.insert(".", at: text.index(text.startIndex, offsetBy: point)) }
            if negative { text = "-" + text }
            let parsed = text.utf8.withContiguousStorageIfAvailable { JSONScanner.double(UnsafeRawBufferPointer($0)) } ?? nil
            #expect(parsed == Double(text), "\(text)")
        }
    }
}

@Suite("Keeping only some labels")
struct KeepingLabelsTests {
    /// Both paths of the client drop the labels not asked for: the reader, and JSONDecoder behind it (here made
    /// to run by a key with an escape, which the reader hands back).
    @Test(arguments: [#""job":"j""#, #""a\u0062":"x","job":"j""#])
    func theClientDropsTheOtherLabelsOnBothPaths(_ labels: String) async throws {
        let body =
            #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"server":"s1","#
            + labels + #"},"value":[1,"2"]}]}}"#
        try await ScriptedHTTPServer.with({ _ in .json(body) }) { server in
            let client = PrometheusClient(configuration: PrometheusConfiguration(url: server.url))
            let response = try await client.query("x", keepingLabels: ["server"])
            #expect(response.result == .vector([Sample(labels: ["server": "s1"], point: Point(timestamp: Date(timeIntervalSince1970: 1), value: 2))]))
            let instant = try await client.queryInstant("x", keepingLabels: ["server"])
            #expect(instant.result == .series([SeriesSample(labels: ["server": "s1"], value: 2)]))
        }
    }
}
