/// The raw series selectors a PromQL expression reads, found by a small lexer (not a full parser).
///
/// For `sum by (server) (rate(http_requests_total{code=~"5.."}[30s])) / sum by (server) (rate(http_requests_total[30s]))`
/// they are `http_requests_total{code=~"5.."}` and `http_requests_total`: what ``Freshness/derived`` wraps in
/// `timestamp()`, which gives a sample's own time only when applied to a raw selector.
///
/// The tokens follow Prometheus' lexer (`promql/parser/lex.go`); the reader then walks them checking only what decides
/// which words are series: operands and operators alternate, brackets balance, label lists and modifiers have their
/// shape. Choices, all Prometheus' own:
/// - An identifier followed by `(` (spaces allowed) is a function or aggregation call, whatever its name.
/// - Any other identifier in operand position is a metric name, kept in its own case — also one named like a function
///   (`time`) or like most keywords (`sum`, `by`, `offset`, `start`), as the grammar's `metric_identifier` allows;
///   except `inf` and `nan` (numbers) and `atan2`, `bool`, `on`, `ignoring`, `group_left`, `group_right`, which can
///   never be operands (the expression is then unreadable).
/// - Keywords (`and`, `by`, `offset`, `group_left`, `sum` before `by`, …) are matched case-insensitively.
/// - Aggregations take their grouping before or after the arguments: `sum by (a) (x)` and `sum(x) by (a)`.
/// - Range `[…]` and subquery `[…:…]` brackets, `offset` and `@` modifiers, and the experimental duration expressions
///   (`step()`, `max_of(…)`), `fill(…)`, `smoothed` and `anchored` modifiers and `</` `>/` operators are dropped.
///
/// It does not check types or names (a range on a non-selector, `bool` on `+`, an unknown function, `{job=""}` whose
/// only matcher matches the empty string): Prometheus rejects those when the rule itself is queried.
public enum PromQLSelectors {
    /// The instant-vector selectors of `expression` (range `[..]`, `offset` and `@` modifiers removed), as text,
    /// deduplicated in order of first appearance; `nil` when the expression cannot be read with confidence
    /// (empty, unbalanced, an unterminated string or a bad escape in one, a character PromQL does not allow, a
    /// token where none of its kind can stand).
    ///
    /// The text is normalised the way Prometheus prints a selector: no whitespace, `, ` between matchers, no trailing
    /// comma, each string exactly as written (its quotes and escapes kept). `x{}` is `x`; `{}` alone, which Prometheus
    /// refuses, is unreadable.
    public static func selectors(in expression: String) -> [String]? {
        guard let tokens = PromQLLexer.tokens(of: expression) else { return nil }
        var reader = SelectorReader(tokens: tokens)
        return reader.read()
    }
}

/// One PromQL token, as much of it as finding selectors needs.
enum PromQLToken: Equatable {
    /// An identifier or keyword, as written.
    case word(String)
    /// A string literal, as written with its quotes.
    case string(String)
    /// A number or duration literal (`1`, `0x1f`, `1e3`, `.5`, `5m`, `1h30m`); `Inf` and `NaN` are words.
    case number
    /// Punctuation or an operator: `(` `)` `{` `}` `[` `]` `,` `:` `@` `+` `==` `=~` `</` ….
    case symbol(String)
}

/// Splits a PromQL expression into tokens, or fails as Prometheus' lexer would.
///
/// Like Prometheus' lexer it has three modes: statements, inside `{…}` (label names have no `:`, no numbers) and
/// inside `[…]` (durations, arithmetic and the duration keywords only; `:` separates a subquery's step).
struct PromQLLexer {
    private enum Mode { case statements, braces, brackets }

    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var mode = Mode.statements
    private var tokens: [PromQLToken] = []

    private init(_ text: String) { scalars = Array(text.unicodeScalars) }

    /// The tokens of `text`, comments and whitespace left out; `nil` when Prometheus' lexer would fail.
    static func tokens(of text: String) -> [PromQLToken]? {
        var lexer = PromQLLexer(text)
        while lexer.position < lexer.scalars.count {
            guard lexer.lexNext() else { return nil }
        }
        return lexer.mode == .statements ? lexer.tokens : nil
    }

    private func scalar(at offset: Int) -> Unicode.Scalar? {
        let index = position + offset
        return index >= 0 && index < scalars.count ? scalars[index] : nil
    }

    private mutating func emit(_ symbol: String) {
        tokens.append(.symbol(symbol))
        position += symbol.unicodeScalars.count
    }

    private mutating func lexNext() -> Bool {
        guard let current = scalar(at: 0) else { return false }
        if current == " " || current == "\t" || current == "\n" || current == "\r" {
            position += 1
            return true
        }
        switch mode {
        case .statements: return lexStatement(current)
        case .braces: return lexInsideBraces(current)
        case .brackets: return lexInsideBrackets(current)
        }
    }

    private mutating func lexStatement(_ current: Unicode.Scalar) -> Bool {
        let next = scalar(at: 1)
        switch current {
        case "#":
            skipComment()
        case ",", "(", ")", "@", "*", "/", "%", "+", "-", "^":
            emit(String(current))
        case "{":
            emit("{")
            mode = .braces
        case "[":
            emit("[")
            mode = .brackets
        case "=":
            // A lone `=` or `=~` only belongs inside braces.
            guard next == "=" else { return false }
            emit("==")
        case "!":
            guard next == "=" else { return false }
            emit("!=")
        case "<", ">":
            if next == "=" || next == "/", let next {
                emit(String(current) + String(next))
            } else {
                emit(String(current))
            }
        case "\"", "'", "`":
            return lexString()
        default:
            if Self.isDigit(current) || (current == "." && next.map(Self.isDigit) == true) { return lexNumber() }
            guard Self.isLetter(current) || current == ":" else { return false }
            tokens.append(.word(take { Self.isLetter($0) || Self.isDigit($0) || $0 == ":" }))
        }
        return true
    }

    private mutating func lexInsideBraces(_ current: Unicode.Scalar) -> Bool {
        switch current {
        case "#":
            skipComment()
        case ",":
            emit(",")
        case "}":
            emit("}")
            mode = .statements
        case "=":
            emit(scalar(at: 1) == "~" ? "=~" : "=")
        case "!":
            guard let next = scalar(at: 1), next == "=" || next == "~" else { return false }
            emit("!" + String(next))
        case "\"", "'", "`":
            return lexString()
        default:
            guard Self.isLetter(current) else { return false }
            tokens.append(.word(take { Self.isLetter($0) || Self.isDigit($0) }))
        }
        return true
    }

    private mutating func lexInsideBrackets(_ current: Unicode.Scalar) -> Bool {
        switch current {
        case "]":
            emit("]")
            mode = .statements
        case ":", "(", ")", ",", "+", "-", "*", "/", "%", "^":
            emit(String(current))
        default:
            if Self.isDigit(current) || (current == "." && scalar(at: 1).map(Self.isDigit) == true) { return lexNumber() }
            guard Self.isLetter(current) else { return false }
            let word = take { Self.isLetter($0) || Self.isDigit($0) }
            guard ["step", "range", "max_of", "min_of"].contains(word.lowercased()) else { return false }
            tokens.append(.word(word))
        }
        return true
    }

    /// Consumes scalars while `belongs` holds and returns them.
    private mutating func take(while belongs: (Unicode.Scalar) -> Bool) -> String {
        var text = String.UnicodeScalarView()
        while let current = scalar(at: 0), belongs(current) {
            text.append(current)
            position += 1
        }
        return String(text)
    }

    private mutating func skipComment() {
        while let current = scalar(at: 0), current != "\n", current != "\r" { position += 1 }
    }

    /// A number or duration: the longest run of letters, digits, `_` and `.` (with a sign right after an exponent's
    /// `e`), which must then read as one, as Prometheus requires (`5mx` and `1.2.3` are errors, not two tokens).
    private mutating func lexNumber() -> Bool {
        var run: [Unicode.Scalar] = []
        while let current = scalar(at: 0) {
            let signOfExponent = (current == "+" || current == "-") && (run.last == "e" || run.last == "E")
            guard Self.isLetter(current) || Self.isDigit(current) || current == "." || signOfExponent else { break }
            run.append(current)
            position += 1
        }
        guard PromQLNumber.isNumber(run) || PromQLNumber.isDuration(run) else { return false }
        tokens.append(.number)
        return true
    }

    /// A string in `"…"` or `'…'` (escapes checked, no newline) or in backticks (raw, newlines allowed). Like
    /// Prometheus, it refuses U+FFFD, which is also what invalid UTF-8 became on its way into a Swift string.
    private mutating func lexString() -> Bool {
        guard let quote = scalar(at: 0) else { return false }
        var text = String.UnicodeScalarView([quote])
        position += 1
        while let current = scalar(at: 0) {
            if current == "\u{FFFD}" || (current == "\n" && quote != "`") { return false }
            if current == "\\" && quote != "`" {
                guard let length = escapeLength(quote: quote) else { return false }
                text.append(contentsOf: scalars[position..<(position + length)])
                position += length
                continue
            }
            text.append(current)
            position += 1
            if current == quote {
                tokens.append(.string(String(text)))
                return true
            }
        }
        return false
    }

    /// How many scalars the escape sequence at `position` (its backslash) spans, or `nil` if Prometheus rejects it.
    private func escapeLength(quote: Unicode.Scalar) -> Int? {
        guard let kind = scalar(at: 1) else { return nil }
        let digits: Int
        let radix: UInt32
        switch kind {
        case "a", "b", "f", "n", "r", "t", "v", "\\", quote: return 2
        case "0"..."7": (digits, radix) = (3, 8)
        case "x": (digits, radix) = (2, 16)
        case "u": (digits, radix) = (4, 16)
        case "U": (digits, radix) = (8, 16)
        default: return nil
        }
        let first = radix == 8 ? 1 : 2
        var value: UInt32 = 0
        for offset in first..<(first + digits) {
            guard let digit = scalar(at: offset).flatMap({ Self.digitValue($0) }), digit < radix else { return nil }
            value = value * radix + digit
        }
        let limit: UInt32 = kind == "u" || kind == "U" ? 0x10FFFF : 0xFF
        guard value <= limit, !(0xD800..<0xE000).contains(value) else { return nil }
        return first + digits
    }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    /// `_` and ASCII letters: what starts a PromQL identifier (with `:`, outside braces).
    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    static func digitValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar {
        case "0"..."9": scalar.value - 48
        case "a"..."f": scalar.value - 87
        case "A"..."F": scalar.value - 55
        default: nil
        }
    }
}

/// The shapes of PromQL number and duration literals.
private enum PromQLNumber {
    /// Decimal (`1`, `1.5`, `.5`, `5.`, `1e3`, `2.5E-3`, `1_000`) or hexadecimal (`0x1f`, `0x_1F`); underscores only
    /// between digits.
    static func isNumber(_ run: [Unicode.Scalar]) -> Bool {
        if run.count > 2, run[0] == "0", run[1] == "x" || run[1] == "X" {
            let digits = run[2...].first == "_" ? Array(run[3...]) : Array(run[2...])
            return digitsWithUnderscores(digits) { PromQLLexer.digitValue($0) != nil }
        }
        var mantissa = run[...]
        if let exponent = run.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = run[..<exponent]
            var power = run[(exponent + 1)...]
            if power.first == "+" || power.first == "-" { power = power.dropFirst() }
            guard digitsWithUnderscores(Array(power), PromQLLexer.isDigit) else { return false }
        }
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.contains(where: { !$0.isEmpty }) else { return false }
        return parts.allSatisfy { $0.isEmpty || digitsWithUnderscores(Array($0), PromQLLexer.isDigit) }
    }

    /// `5m`, `1h30m`, `500ms`: whole numbers each with a unit, the units from `y` down to `ms`, each at most once.
    static func isDuration(_ run: [Unicode.Scalar]) -> Bool {
        let units = ["y", "w", "d", "h", "m", "s", "ms"]
        var rest = run[...]
        var nextUnit = 0
        while !rest.isEmpty {
            let digits = rest.prefix(while: PromQLLexer.isDigit)
            rest = rest.dropFirst(digits.count)
            let letters = String(String.UnicodeScalarView(rest.prefix(while: PromQLLexer.isLetter)))
            rest = rest.dropFirst(letters.unicodeScalars.count)
            guard !digits.isEmpty, let unit = units.firstIndex(of: letters), unit >= nextUnit else { return false }
            nextUnit = unit + 1
        }
        return nextUnit > 0
    }

    private static func digitsWithUnderscores(_ run: [Unicode.Scalar], _ isDigit: (Unicode.Scalar) -> Bool) -> Bool {
        guard let first = run.first, let last = run.last, isDigit(first), isDigit(last) else { return false }
        for (index, scalar) in run.enumerated() where !isDigit(scalar) {
            guard scalar == "_", isDigit(run[index - 1]), isDigit(run[index + 1]) else { return false }
        }
        return true
    }
}

/// Walks the tokens, operand after operator, and collects the selectors.
struct SelectorReader {
    /// An open parenthesis: a group `(a + b)`, a function's arguments, or an aggregation's.
    private enum Frame: Equatable {
        case group
        case call
        case aggregation(grouped: Bool)
    }

    private static let aggregations: Set<String> = [
        "sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk", "count_values",
        "quantile", "limitk", "limit_ratio",
    ]
    /// Keywords that cannot stand where an operand is expected, not even as metric names.
    private static let neverOperands: Set<String> = ["atan2", "bool", "on", "ignoring", "group_left", "group_right"]
    private static let binarySymbols: Set<String> = ["+", "-", "*", "/", "%", "^", "==", "!=", "<", "<=", ">", ">=", "</", ">/"]
    private static let binaryWords: Set<String> = ["and", "or", "unless", "atan2"]
    private static let durationWords: Set<String> = ["step", "range", "max_of", "min_of"]

    private let tokens: [PromQLToken]
    private var index = 0
    private var frames: [Frame] = []
    private var expectingOperand = true
    /// Where the `)` of an aggregation without grouping was, so that `by`/`without` may follow it.
    private var ungroupedAggregationClosedAt: Int?
    private var found: [String] = []
    private var seen: Set<String> = []

    init(tokens: [PromQLToken]) { self.tokens = tokens }

    /// The selectors, or `nil` if the tokens do not make an expression.
    mutating func read() -> [String]? {
        while index < tokens.count {
            guard expectingOperand ? readOperand() : readAfterOperand() else { return nil }
        }
        return frames.isEmpty && !expectingOperand ? found : nil
    }

    private func token(at position: Int) -> PromQLToken? {
        position >= 0 && position < tokens.count ? tokens[position] : nil
    }

    /// The lowercased word at `position`, to compare with a keyword.
    private func keyword(at position: Int) -> String? {
        guard case .word(let word)? = token(at: position) else { return nil }
        return word.lowercased()
    }

    private mutating func record(_ selector: String) {
        if seen.insert(selector).inserted { found.append(selector) }
    }

    private mutating func readOperand() -> Bool {
        switch tokens[index] {
        case .symbol("+"), .symbol("-"):
            index += 1
        case .number, .string:
            index += 1
            expectingOperand = false
        case .symbol("("):
            frames.append(.group)
            index += 1
        case .symbol(")"):
            // Only an empty argument list, as in `time()`.
            guard token(at: index - 1) == .symbol("("), let frame = frames.last, frame != .group else { return false }
            close()
        case .symbol("{"):
            guard let matchers = readMatchers(), !matchers.isEmpty else { return false }
            record("{\(matchers)}")
            expectingOperand = false
        case .word(let word):
            return readWordOperand(word)
        default:
            return false
        }
        return true
    }

    private mutating func readWordOperand(_ word: String) -> Bool {
        let lowercased = word.lowercased()
        if lowercased == "inf" || lowercased == "nan" {
            index += 1
            expectingOperand = false
            return true
        }
        guard !Self.neverOperands.contains(lowercased) else { return false }
        let next = token(at: index + 1)
        if next == .symbol("(") {
            guard !word.contains(":") else { return false }  // `a:b` is only ever a metric name
            frames.append(Self.aggregations.contains(lowercased) ? .aggregation(grouped: false) : .call)
            index += 2
            return true
        }
        if Self.aggregations.contains(lowercased), let modifier = keyword(at: index + 1), modifier == "by" || modifier == "without" {
            index += 2
            guard readLabelList(), token(at: index) == .symbol("(") else { return false }
            frames.append(.aggregation(grouped: true))
            index += 1
            return true
        }
        index += 1
        var selector = word
        if next == .symbol("{") {
            guard let matchers = readMatchers() else { return false }
            if !matchers.isEmpty { selector += "{\(matchers)}" }
        }
        record(selector)
        expectingOperand = false
        return true
    }

    private mutating func readAfterOperand() -> Bool {
        switch tokens[index] {
        case .symbol(let symbol) where Self.binarySymbols.contains(symbol):
            index += 1
            return readBinaryModifiers()
        case .word(let word):
            let lowercased = word.lowercased()
            if Self.binaryWords.contains(lowercased) {
                index += 1
                return readBinaryModifiers()
            }
            switch lowercased {
            case "offset":
                index += 1
                return readOffset()
            case "smoothed", "anchored":
                index += 1
            case "by", "without":
                guard ungroupedAggregationClosedAt == index - 1 else { return false }
                index += 1
                return readLabelList()
            default:
                return false
            }
        case .symbol("@"):
            index += 1
            return readTimestamp()
        case .symbol("["):
            return readBrackets()
        case .symbol(","):
            guard let frame = frames.last, frame != .group else { return false }
            index += 1
            expectingOperand = true
        case .symbol(")"):
            guard !frames.isEmpty else { return false }
            close()
        default:
            return false
        }
        return true
    }

    /// Closes the innermost parenthesis, at `index`.
    private mutating func close() {
        if frames.removeLast() == .aggregation(grouped: false) { ungroupedAggregationClosedAt = index }
        index += 1
        expectingOperand = false
    }

    /// After a binary operator: `bool`, `on (…)`/`ignoring (…)`, then `group_left`/`group_right` with an optional
    /// label list, then up to two `fill(…)`, `fill_left(…)`, `fill_right(…)`.
    private mutating func readBinaryModifiers() -> Bool {
        expectingOperand = true
        if keyword(at: index) == "bool" { index += 1 }
        if let matching = keyword(at: index), matching == "on" || matching == "ignoring" {
            index += 1
            guard readLabelList() else { return false }
            if let grouping = keyword(at: index), grouping == "group_left" || grouping == "group_right" {
                index += 1
                if token(at: index) == .symbol("("), !readLabelList() { return false }
            }
        }
        for _ in 0..<2 {
            guard let fill = keyword(at: index), ["fill", "fill_left", "fill_right"].contains(fill),
                token(at: index + 1) == .symbol("(")
            else { break }
            index += 2
            if token(at: index) == .symbol("+") || token(at: index) == .symbol("-") { index += 1 }
            guard isNumber(at: index), token(at: index + 1) == .symbol(")") else { return false }
            index += 2
        }
        return true
    }

    private func isNumber(at position: Int) -> Bool {
        token(at: position) == .number || keyword(at: position) == "inf" || keyword(at: position) == "nan"
    }

    /// `(a, "b", c,)` after `by`, `without`, `on`, `ignoring`, `group_left`, `group_right`: label names, not metrics.
    private mutating func readLabelList() -> Bool {
        guard token(at: index) == .symbol("(") else { return false }
        index += 1
        while true {
            switch token(at: index) {
            case .symbol(")")?:
                index += 1
                return true
            case .string?:
                index += 1
            case .word?:
                guard !isNumber(at: index) else { return false }
                index += 1
            default:
                return false
            }
            switch token(at: index) {
            case .symbol(",")?:
                index += 1
            case .symbol(")")?:
                index += 1
                return true
            default:
                return false
            }
        }
    }

    /// `{name op "value", "metric", …}` from the `{` at `index`: the matchers joined by `, `, or `nil`.
    private mutating func readMatchers() -> String? {
        index += 1
        var matchers: [String] = []
        while true {
            var matcher: String
            switch token(at: index) {
            case .symbol("}")?:
                index += 1
                return matchers.joined(separator: ", ")
            case .word(let text)?, .string(let text)?:
                matcher = text
            default:
                return nil
            }
            if case .symbol(let op)? = token(at: index + 1), ["=", "!=", "=~", "!~"].contains(op) {
                guard case .string(let value)? = token(at: index + 2) else { return nil }
                matcher += op + value
                index += 3
            } else {
                guard case .string? = token(at: index) else { return nil }  // a quoted metric name stands alone
                index += 1
            }
            matchers.append(matcher)
            switch token(at: index) {
            case .symbol(",")?:
                index += 1
            case .symbol("}")?:
                index += 1
                return matchers.joined(separator: ", ")
            default:
                return nil
            }
        }
    }

    /// `[5m]`, `[30m:1m]`, `[1h:]`, `[5m + step()]` from the `[` at `index`.
    private mutating func readBrackets() -> Bool {
        index += 1
        let start = index
        var depth = 0
        var sawColon = false
        while let current = token(at: index) {
            index += 1
            switch current {
            case .symbol("]"):
                return depth == 0 && index - 1 > start && token(at: start) != .symbol(":")
            case .symbol(":"):
                guard depth == 0, !sawColon else { return false }
                sawColon = true
            case .symbol("("):
                depth += 1
            case .symbol(")"):
                depth -= 1
                guard depth >= 0 else { return false }
            default:
                break  // the lexer let only durations, arithmetic and duration keywords through
            }
        }
        return false
    }

    /// The argument of `offset`: a signed number or duration, `step()`, `range()`, or a parenthesised duration
    /// expression (`max_of(…)`, `(…)`).
    private mutating func readOffset() -> Bool {
        if token(at: index) == .symbol("+") || token(at: index) == .symbol("-") { index += 1 }
        if token(at: index) == .number {
            index += 1
            return true
        }
        switch keyword(at: index) {
        case "step"?, "range"?:
            guard token(at: index + 1) == .symbol("("), token(at: index + 2) == .symbol(")") else { return false }
            index += 3
            return true
        case "max_of"?, "min_of"?:
            index += 1
            return readDurationGroup()
        default:
            return readDurationGroup()
        }
    }

    /// A balanced `(…)` of durations, arithmetic, commas and duration keywords, from the `(` at `index`.
    private mutating func readDurationGroup() -> Bool {
        guard token(at: index) == .symbol("(") else { return false }
        var depth = 0
        while let current = token(at: index) {
            index += 1
            switch current {
            case .symbol("("):
                depth += 1
            case .symbol(")"):
                depth -= 1
                if depth == 0 { return true }
            case .number, .symbol("+"), .symbol("-"), .symbol("*"), .symbol("/"), .symbol("%"), .symbol("^"), .symbol(","):
                break
            case .word(let word) where Self.durationWords.contains(word.lowercased()):
                break
            default:
                return false
            }
        }
        return false
    }

    /// The argument of `@`: a signed number, `start()` or `end()`.
    private mutating func readTimestamp() -> Bool {
        if token(at: index) == .symbol("+") || token(at: index) == .symbol("-") {
            index += 1
            guard token(at: index) == .number else { return false }
        }
        if token(at: index) == .number {
            index += 1
            return true
        }
        guard let anchor = keyword(at: index), anchor == "start" || anchor == "end",
            token(at: index + 1) == .symbol("("), token(at: index + 2) == .symbol(")")
        else { return false }
        index += 3
        return true
    }
}
