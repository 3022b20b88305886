import CurlHTTP
import Testing

@Suite struct FormEncodingTests {
    @Test(arguments: [
        ("up", "up"),
        ("a b", "a%20b"),
        ("rate(x[5m]) > 0.5", "rate%28x%5B5m%5D%29%20%3E%200.5"),
        (#"{code=~"5.."}"#, "%7Bcode%3D~%225..%22%7D"),
        ("a+b&c=d", "a%2Bb%26c%3Dd"),
        ("é", "%C3%A9"),
        ("-._~", "-._~"),
    ])
    func percentEncodesOutsideTheUnreservedSet(input: String, expected: String) {
        #expect(FormEncoding.percentEncode(input) == expected)
    }

    @Test func joinsFieldsInOrder() {
        #expect(FormEncoding.encode([("query", "up == 1"), ("time", "10")]) == "query=up%20%3D%3D%201&time=10")
    }
}
