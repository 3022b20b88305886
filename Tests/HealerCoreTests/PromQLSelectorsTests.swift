import HealerCore
import Testing

@Suite("PromQL selectors")
struct PromQLSelectorsTests {
    /// Expressions and the selectors they read, in order of first appearance.
    static let readable: [(String, [String])] = [
        // Realistic rules.
        (
            #"sum by (server) (rate(http_requests_total{code=~"5.."}[30s])) / sum by (server) (rate(http_requests_total[30s]))"#,
            [#"http_requests_total{code=~"5.."}"#, "http_requests_total"]
        ),
        (
            #"histogram_quantile(0.99, sum by (le, server) (rate(http_request_duration_seconds_bucket{job="api"}[5m])))"#,
            [#"http_request_duration_seconds_bucket{job="api"}"#]
        ),
        ("up == 0", ["up"]),
        (#"absent(up{job="node"})"#, [#"up{job="node"}"#]),
        ("backend_error_ratio > 0.05", ["backend_error_ratio"]),
        ("time() - max by (server) (timestamp(heartbeat_seconds))", ["heartbeat_seconds"]),
        // Aggregations: grouping before or after the arguments, parameters, keywords in any case.
        ("sum by (server) (rate(x[1m]))", ["x"]),
        ("sum(rate(x[1m])) by (server)", ["x"]),
        ("sum without (instance, job) (x)", ["x"]),
        ("avg(x) without (instance)", ["x"]),
        ("topk without (a) (3, rate(x[5m]))", ["x"]),
        (#"count_values("version", build_info)"#, ["build_info"]),
        ("quantile by (server) (0.9, latency_seconds)", ["latency_seconds"]),
        ("SUM BY (server) (x) AND ON (server) y", ["x", "y"]),
        ("sum by (a,) (x)", ["x"]),
        (#"sum by ("a", group_left, on) (x)"#, ["x"]),
        // Functions: a name followed by `(`, whatever it is; string arguments are not selectors.
        (#"label_replace(up, "host", "$1", "instance", "(.*):.*")"#, ["up"]),
        ("abs(-x)", ["x"]),
        ("clamp_min(x, 0)", ["x"]),
        ("rate (x [5m])", ["x"]),
        // Binary operators and their modifiers: label lists are not metrics.
        ("x / on(instance) group_left(version) y", ["x", "y"]),
        ("x * ignoring(a, b) group_right y", ["x", "y"]),
        ("x * on (a) group_left y", ["x", "y"]),
        ("x > bool 0.5", ["x"]),
        ("x and y or z unless w", ["x", "y", "z", "w"]),
        ("x atan2 y", ["x", "y"]),
        ("x == bool on(a) y", ["x", "y"]),
        ("x + on(a) fill(0) y", ["x", "y"]),
        // Numbers of every shape are not metrics.
        ("-x + Inf * NaN - 0x1f + 1e3 + .5 + 5. + 2.5E-3 + 1_000 - inf + nan", ["x"]),
        ("x - 5m", ["x"]),
        // Ranges, subqueries, offset and @ are dropped.
        ("max_over_time(rate(x[1m])[30m:1m])", ["x"]),
        ("rate(x[5m:])", ["x"]),
        ("x[1h:5m] offset 1d", ["x"]),
        ("x offset 5m", ["x"]),
        ("x offset -5m", ["x"]),
        ("rate(x[5m] offset 1h30m)", ["x"]),
        ("x @ 1609746000", ["x"]),
        ("x @ 1609746000.5 offset 1m", ["x"]),
        ("rate(x[5m] @ start())", ["x"]),
        ("x @ end() + y OFFSET 1w", ["x", "y"]),
        ("rate(x[5m + step()])", ["x"]),
        ("x offset step()", ["x"]),
        ("rate(x[5m] anchored)", ["x"]),
        // Selectors written with braces only, or with a quoted name.
        (#"{__name__=~"node_.*", job="a"}"#, [#"{__name__=~"node_.*", job="a"}"#]),
        (#"{"my.metric", job="a"}"#, [#"{"my.metric", job="a"}"#]),
        // Strings, kept as written: braces, commas, escaped quotes, single quotes, raw strings (backslashes and
        // newlines), escapes, Unicode.
        (#"x{path="/a}b,c", msg="say \"hi\""}"#, [#"x{path="/a}b,c", msg="say \"hi\""}"#]),
        (#"x{a='it\'s', b=`C:\dir`}"#, [#"x{a='it\'s', b=`C:\dir`}"#]),
        ("x{a=`multi\nline`}", ["x{a=`multi\nline`}"]),
        (#"x{a="\x41\u00e9\101\n"}"#, [#"x{a="\x41\u00e9\101\n"}"#]),
        (#"x{a="é😀"}"#, [#"x{a="é😀"}"#]),
        // Whitespace and trailing commas normalised, empty braces dropped, duplicates once.
        (#"x{ a = "1" , b != "2", }"#, [#"x{a="1", b!="2"}"#]),
        ("x{}", ["x"]),
        (#"x + x + x{a="1"} + x{a = "1"}"#, ["x", #"x{a="1"}"#]),
        (#"x{a="1"} / x{a="2"}"#, [#"x{a="1"}"#, #"x{a="2"}"#]),
        // Comments.
        ("up # is it up?\n== 0", ["up"]),
        ("# ratio\nx\n/ y # of all", ["x", "y"]),
        ("x{a=\"1\" # a comment inside braces\n}", [#"x{a="1"}"#]),
        // Names: their own case, colons, and names that look like functions or keywords but are not followed by `(`.
        ("Up_Metric", ["Up_Metric"]),
        (#"job:http_requests:rate5m{job="a"}"#, [#"job:http_requests:rate5m{job="a"}"#]),
        ("time", ["time"]),
        ("sum + by", ["sum", "by"]),
        ("fill + offset", ["fill", "offset"]),
        // No selectors at all.
        ("vector(1)", []),
        ("time() - 3", []),
        (#""just a string""#, []),
        ("(((1)))", []),
    ]

    @Test(arguments: readable)
    func readsTheSelectors(expression: String, expected: [String]) {
        #expect(PromQLSelectors.selectors(in: expression) == expected)
    }

    /// Expressions that cannot be read with confidence.
    static let unreadable: [String] = [
        "", "   ", "# only a comment",
        // Unbalanced.
        #"x{a="1""#, "rate(x[5m]", "x)", "(x", "x]", "x[5m", #"x{a="1"}}"#, "()", "[5m]", "x}",
        // Strings.
        #"x{a="1}"#, #""abc"#, "x{a=`open}", #"x{a="\q"}"#, #"x{a="\""#, "x{a=\"line\nbreak\"}", #"x{a="\xZZ"}"#,
        #"x{a='\"'}"#, "x{a=\"\u{FFFD}\"}",
        // Characters and tokens PromQL does not allow there.
        "x ! y", "x = y", "x =~ y", "x{a=1}", "x{a}", "x{a:b=\"1\"}", "x{a==\"1\"}", "{}", "x y", "x +", "* x",
        "rate(x,)", "f(,x)", "(x, y)", "x € y", "résumé", "x;", "x $ y", "x.y", "1.2.3", "5mx", "0x", "1e",
        // Ranges and modifiers.
        "x[]", "x[5m:1m:1m]", "x[:5m]", "x[5x]", "x[5m1h]", "x offset", "x offset 5m1h", "x offset y", "x @", "x @ y",
        "x @ start", "x @ -end()", "x[5m # comment]",
        // Keywords where they cannot be.
        "on(a) x", "x / on y", "x by (a)", "sum by (a) x", "sum by a (x)", "bool", "x group_left y", "x ignoring(a) y",
        "foo:bar(x)", "inf{a=\"1\"}", "sum by (nan) (x)", "x bool y",
    ]

    @Test(arguments: unreadable)
    func refusesWhatItCannotRead(expression: String) {
        #expect(PromQLSelectors.selectors(in: expression) == nil)
    }

    /// A small deterministic generator: a linear congruential one (Knuth's MMIX constants).
    struct Generator {
        var state: UInt64

        mutating func next(below bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// Fragments to build random input from: PromQL punctuation, quotes, backslashes, Unicode, and some real tokens
    /// so that the reader gets past the first few of them.
    static let fragments: [String] = [
        "(", ")", "{", "}", "[", "]", ",", ":", "@", "+", "-", "*", "/", "%", "^", "=", "!", "<", ">", "~", "==", "=~",
        "\"", "'", "`", "#", ".", "\\", " ", "\n", "\t", "\r", "_", "0", "5", "x", "e", "m", "é", "€", "😀", "\u{301}",
        "\u{FFFD}", "\u{0}", "sum", "by", "on", "rate", "offset", "inf", "group_left", "bool", "start", "[5m]", "[1h:1m]",
        "up", "x{a=\"1\"}", "\"s\"", "1e3", "0x1f", "step()", "and",
    ]

    @Test func randomTextNeverCrashesNorYieldsAnEmptySelector() {
        var generator = Generator(state: 0x5EED)
        for _ in 0..<5000 {
            var expression = ""
            for _ in 0..<generator.next(below: 24) {
                expression += Self.fragments[generator.next(below: Self.fragments.count)]
            }
            Self.checkAnswer(for: expression)
        }
    }

    /// Near misses: the readable expressions with a few scalars deleted, doubled or inserted.
    @Test func mutatedExpressionsNeverCrashNorYieldAnEmptySelector() {
        var generator = Generator(state: 0xC0FFEE)
        let alphabet = Array("(){}[],:@+-*/=!<>~\"'`#.\\ \n_5xeé😀\u{301}\u{FFFD}".unicodeScalars)
        for (expression, _) in Self.readable {
            for _ in 0..<50 {
                var scalars = Array(expression.unicodeScalars)
                for _ in 0...generator.next(below: 3) {
                    let position = generator.next(below: scalars.count + 1)
                    switch generator.next(below: 3) {
                    case 0 where position < scalars.count: scalars.remove(at: position)
                    case 1 where position < scalars.count: scalars.insert(scalars[position], at: position)
                    default: scalars.insert(alphabet[generator.next(below: alphabet.count)], at: position)
                    }
                }
                var mutated = String.UnicodeScalarView()
                mutated.append(contentsOf: scalars)
                Self.checkAnswer(for: String(mutated))
            }
        }
    }

    /// Whatever the answer, no selector is empty or repeated, and each reads back as itself (the normal form is stable).
    static func checkAnswer(for expression: String) {
        guard let selectors = PromQLSelectors.selectors(in: expression) else { return }
        #expect(!selectors.contains(""), "\(expression)")
        #expect(Set(selectors).count == selectors.count, "\(expression)")
        for selector in selectors {
            #expect(PromQLSelectors.selectors(in: selector) == [selector], "\(expression)")
        }
    }
}
