/// A forward-only reader of JSON text in a byte buffer: just enough to walk a document of a known shape
/// (objects, arrays, strings, numbers) and skip what it does not know.
///
/// It exists for speed: a pass over 10k servers and 20 rules reads 200k series, and Foundation's `JSONDecoder`
/// spends about 6 µs on each. Any error is a ``JSONScanner/Failure``; callers fall back to `JSONDecoder` to
/// explain it, so messages stay the same whichever reader meets the body first.
struct JSONScanner {
    /// Malformed JSON, or a shape the caller does not handle.
    struct Failure: Error {}

    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Whether only white space is left.
    mutating func isAtEnd() -> Bool {
        skipWhitespace()
        return position == bytes.count
    }

    // MARK: - Structure

    /// A member's key, as raw bytes (valid while the member is read).
    struct Key {
        let bytes: UnsafeRawBufferPointer

        /// Whether the key is `text`.
        func `is`(_ text: StaticString) -> Bool {
            bytes.count == text.utf8CodeUnitCount && JSONScanner.same(bytes.baseAddress!, text.utf8Start, bytes.count)
        }

        /// The key as a string.
        var string: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// Reads an object, calling `member` with each key; `member` must read or skip the value. Keys with escapes
    /// are refused (Prometheus never writes them: label names are `[a-zA-Z_][a-zA-Z0-9_]*`).
    mutating func readObject(_ member: (inout JSONScanner, Key) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "{"))
        if try consume(UInt8(ascii: "}")) { return }
        repeat {
            guard let key = try readPlainString() else { throw Failure() }
            try expect(UInt8(ascii: ":"))
            try member(&self, Key(bytes: key))
        } while try consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// Reads an array, calling `element` for each element; `element` must read or skip it.
    mutating func readArray(_ element: (inout JSONScanner) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "["))
        if try consume(UInt8(ascii: "]")) { return }
        repeat {
            try element(&self)
        } while try consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
    }

    /// Reads `null` and returns true, or leaves the position alone and returns false.
    mutating func readNull() throws(Failure) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try expectLiteral("null")
        return true
    }

    /// Skips one value of any kind.
    mutating func skipValue() throws(Failure) {
        switch try peek() {
        case UInt8(ascii: "{"): try readObject { scanner, _ throws(Failure) in try scanner.skipValue() }
        case UInt8(ascii: "["): try readArray { scanner throws(Failure) in try scanner.skipValue() }
        case UInt8(ascii: "\""): _ = try readString()
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        default: _ = try readNumber()
        }
    }

    // MARK: - Exact layout

    /// Where the scanner is, to come back to with ``reset(to:)``.
    var mark: Int { position }

    /// How many bytes the text has.
    var count: Int { bytes.count }

    /// Goes back to `mark`.
    mutating func reset(to mark: Int) {
        position = mark
    }

    /// Consumes `literal` if the text continues with exactly it (no white space skipped).
    @inline(__always)
    mutating func consume(literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count, let base = bytes.baseAddress, Self.same(base + position, literal.utf8Start, count) else {
            return false
        }
        position += count
        return true
    }

    /// Consumes the `count` bytes that come next if they are the same as the `count` bytes at `offset` (text
    /// read before: the series of an answer begin alike).
    @inline(__always)
    mutating func consume(sameAs offset: Int, count: Int) -> Bool {
        guard count > 0, offset >= 0, offset + count <= position, position + count <= bytes.count, let base = bytes.baseAddress,
            Self.same(base + position, base + offset, count)
        else { return false }
        position += count
        return true
    }

    /// Consumes `byte` if it comes next (no white space skipped).
    @inline(__always)
    mutating func consume(byte: UInt8) -> Bool {
        guard position < bytes.count, bytes.load(fromByteOffset: position, as: UInt8.self) == byte else { return false }
        position += 1
        return true
    }

    /// Reads a string starting right here, returning its bytes, or `nil` (position unspecified) when it is not
    /// a string without escapes.
    @inline(__always)
    mutating func scanPlainString() -> UnsafeRawBufferPointer? {
        guard consume(byte: UInt8(ascii: "\"")), case .plain(let end) = stringBody(from: position) else { return nil }
        defer { position = end + 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<end])
    }

    /// How the string whose text starts at `start` (after its opening quote) goes on.
    private enum StringBody {
        /// Without escapes, up to its closing quote at `end`.
        case plain(end: Int)
        /// With an escape: it has to be decoded.
        case escaped
        /// A control character, or no closing quote.
        case invalid
    }

    @inline(__always)
    private func stringBody(from start: Int) -> StringBody {
        guard let base = bytes.baseAddress else { return .invalid }
        let count = bytes.count
        var end = start
        // Eight bytes at a time while none is a quote, a backslash, a control character or above 0x7F (SWAR: a
        // byte's flag is set when it is one of those; the lowest flagged byte is the first such byte).
        while end + 8 <= count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: end, as: UInt64.self))
            let flags = Self.special(word)
            if flags != 0 {
                end += flags.trailingZeroBitCount / 8
                break
            }
            end += 8
        }
        var bits: UInt8 = 0  // any byte above 0x7F: the text must then be checked as UTF-8, as JSONDecoder checks it
        while end < count {
            let byte = base.load(fromByteOffset: end, as: UInt8.self)
            if byte == UInt8(ascii: "\"") {
                if bits >= 0x80, String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) == nil { return .invalid }
                return .plain(end: end)
            }
            if byte == UInt8(ascii: "\\") { return .escaped }
            guard byte >= 0x20 else { return .invalid }
            bits |= byte
            end += 1
        }
        return .invalid
    }

    /// The high bit of each byte of `word` that is `"`, `\`, below 0x20 or above 0x7F; other bytes' high bits are
    /// clear, except (possibly) bytes above the lowest flagged one.
    @inline(__always)
    private static func special(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func zeroBytes(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let quote = zeroBytes(word ^ (ones &* 0x22))
        let backslash = zeroBytes(word ^ (ones &* 0x5C))
        let control = (word &- ones &* 0x20) & ~word & highs
        return quote | backslash | control | (word & highs)
    }

    // MARK: - Scalars

    /// Reads a string, escapes decoded; `reuse` is returned instead of a new string when it is the same text
    /// (answers repeat label values from series to series).
    mutating func readString(reusing reuse: String? = nil) throws(Failure) -> String {
        try expect(UInt8(ascii: "\""))
        switch stringBody(from: position) {
        case .plain(let end):
            let plain = UnsafeRawBufferPointer(rebasing: bytes[position..<end])
            position = end + 1
            if let reuse, Self.equal(plain, reuse) { return reuse }
            return String(decoding: plain, as: UTF8.self)
        case .escaped:
            return try readEscapedString(from: position)
        case .invalid:
            throw Failure()
        }
    }

    /// Reads a string without escapes as its raw bytes; at a string with escapes, returns `nil` (the position is
    /// then unspecified: read it with ``readString(reusing:)`` from a saved position instead).
    mutating func readPlainString() throws(Failure) -> UnsafeRawBufferPointer? {
        try expect(UInt8(ascii: "\""))
        switch stringBody(from: position) {
        case .plain(let end):
            defer { position = end + 1 }
            return UnsafeRawBufferPointer(rebasing: bytes[position..<end])
        case .escaped:
            return nil
        case .invalid:
            throw Failure()
        }
    }

    /// Whether `count` bytes at `a` and `b` are the same, without a call to `memcmp` (the texts compared are a few
    /// bytes, and the call cost more than the comparison) and without a loop over single bytes: a text shorter than
    /// a word is compared as two overlapping halves, and the last word of a longer one overlaps the word before.
    @inline(__always)
    static func same(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        func equal<Word: FixedWidthInteger>(_: Word.Type, at offset: Int) -> Bool {
            a.loadUnaligned(fromByteOffset: offset, as: Word.self) == b.loadUnaligned(fromByteOffset: offset, as: Word.self)
        }
        if count >= 8 {
            var offset = 0
            while offset + 8 < count {
                if !equal(UInt64.self, at: offset) { return false }
                offset += 8
            }
            return equal(UInt64.self, at: count - 8)
        }
        if count >= 4 { return equal(UInt32.self, at: 0) && equal(UInt32.self, at: count - 4) }
        if count >= 2 { return equal(UInt16.self, at: 0) && equal(UInt16.self, at: count - 2) }
        return count == 0 || equal(UInt8.self, at: 0)
    }

    /// Whether `a` and `b` are the same bytes.
    @inline(__always)
    static func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.isEmpty || same(a.baseAddress!, b.baseAddress!, a.count))
    }

    /// Whether `first` sorts strictly before `second`, both ASCII (`false` when either is not, or when equal).
    static func isASCIIOrdered(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Bool {
        for index in 0..<min(first.count, second.count) {
            let (a, b) = (first[index], second[index])
            guard a < 0x80, b < 0x80 else { return false }
            if a != b { return a < b }
        }
        return first.count < second.count && second.allSatisfy { $0 < 0x80 }
    }

    /// Whether `bytes` are the UTF-8 of `string`.
    static func equal(_ bytes: UnsafeRawBufferPointer, _ string: String) -> Bool {
        var string = string
        return string.withUTF8 { same(UnsafeRawBufferPointer($0), bytes) }
    }

    /// The text and value of the last number read through it: the same text again is not parsed again (every
    /// sample of an instant vector has the same timestamp, and most have one of a few values).
    struct NumberMemo {
        fileprivate var text = UnsafeRawBufferPointer(start: nil, count: 0)
        fileprivate var value = 0.0

        /// The value of `text` if it is the remembered text.
        @inline(__always)
        func value(of text: UnsafeRawBufferPointer) -> Double? {
            text.count > 0 && JSONScanner.same(text, self.text) ? value : nil
        }

        /// Remembers `text` (which must stay valid while the memo is used) and its value.
        @inline(__always)
        mutating func remember(_ text: UnsafeRawBufferPointer, _ value: Double) {
            self.text = text
            self.value = value
        }
    }

    /// Reads a number as a `Double` (JSON grammar, checked), the same text as the memo's taken as read.
    @inline(__always)
    mutating func readNumber(memo: inout NumberMemo) throws(Failure) -> Double {
        skipWhitespace()
        let count = memo.text.count
        if count > 0, position + count < bytes.count, !Self.isNumberByte(bytes[position + count]),
            let value = memo.value(of: UnsafeRawBufferPointer(rebasing: bytes[position..<position + count]))
        {
            position += count
            return value
        }
        let start = position
        let value = try readNumber()
        memo.remember(UnsafeRawBufferPointer(rebasing: bytes[start..<position]), value)
        return value
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10 || byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "-")
    }

    /// The remembered number, consumed, when the text goes on with exactly its text and then `next` (not consumed,
    /// and not a character of a number): the check ``readNumber(memo:)`` makes first, without a call.
    @inline(__always)
    mutating func consume(remembered memo: NumberMemo, before next: UInt8) -> Double? {
        let count = memo.text.count
        guard count > 0, position + count < bytes.count, let base = bytes.baseAddress, let text = memo.text.baseAddress,
            base.load(fromByteOffset: position + count, as: UInt8.self) == next, Self.same(base + position, text, count)
        else { return nil }
        position += count
        return memo.value
    }

    /// Reads a number as a `Double` (JSON grammar, checked).
    mutating func readNumber() throws(Failure) -> Double {
        skipWhitespace()
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard try skipDigits(leadingZeroAllowed: false) else { throw Failure() }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard try skipDigits(leadingZeroAllowed: true) else { throw Failure() }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard try skipDigits(leadingZeroAllowed: true) else { throw Failure() }
        }
        // A literal beyond Double's range is no number JSONDecoder reads (JSON has no infinity).
        guard let value = Self.double(UnsafeRawBufferPointer(rebasing: bytes[start..<position])), value.isFinite else { throw Failure() }
        return value
    }

    /// The value of a decimal number's text (JSON or Go's `strconv.FormatFloat` forms), or `nil`.
    ///
    /// Exact without a library call when the digits fit in 2^53 and the power of ten is at most 22 (Clinger's
    /// fast path: both are exact doubles, so one correctly rounded division or product is the correctly
    /// rounded result); every other text goes to the C library's `strtod` by way of `Double(_:)`.
    static func double(_ text: UnsafeRawBufferPointer) -> Double? {
        var index = 0
        var negative = false
        if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var scale = 0
        var sawDigit = false
        var sawPoint = false
        while index < text.count {
            let byte = text[index]
            if byte &- UInt8(ascii: "0") < 10 {
                sawDigit = true
                if mantissa != 0 || byte != UInt8(ascii: "0") { digits += 1 }
                guard digits <= 15 else { return Double(String(decoding: text, as: UTF8.self)) }
                mantissa = mantissa * 10 + UInt64(byte &- UInt8(ascii: "0"))
                if sawPoint { scale -= 1 }
            } else if byte == UInt8(ascii: "."), !sawPoint {
                sawPoint = true
            } else {
                // Exponents, and anything else (Inf, NaN, junk), go the long way.
                return Double(String(decoding: text, as: UTF8.self))
            }
            index += 1
        }
        guard sawDigit else { return nil }
        guard scale >= -22 else { return Double(String(decoding: text, as: UTF8.self)) }
        var value = Double(mantissa)
        if scale < 0 { value /= powerOfTen(-scale) }
        return negative ? -value : value
    }

    /// 10^exponent for 0...22, all exact doubles.
    private static func powerOfTen(_ exponent: Int) -> Double {
        switch exponent {
        case 0: 1e0
        case 1: 1e1
        case 2: 1e2
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        case 15: 1e15
        case 16: 1e16
        case 17: 1e17
        case 18: 1e18
        case 19: 1e19
        case 20: 1e20
        case 21: 1e21
        default: 1e22
        }
    }

    // MARK: - Plumbing

    private mutating func skipDigits(leadingZeroAllowed: Bool) throws(Failure) -> Bool {
        let start = position
        while position < bytes.count, bytes[position] &- UInt8(ascii: "0") < 10 { position += 1 }
        if !leadingZeroAllowed, position - start > 1, bytes[start] == UInt8(ascii: "0") { throw Failure() }
        return position > start
    }

    private mutating func readEscapedString(from start: Int) throws(Failure) -> String {
        var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else { throw Failure() }
                return text
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw Failure() }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8.append(contentsOf: try readUnicodeEscape())
                default: throw Failure()
                }
            case ..<0x20:
                throw Failure()
            default:
                utf8.append(byte)
            }
        }
        throw Failure()
    }

    /// The UTF-8 of `\uXXXX` (the `\u` already read), a surrogate pair joined. A lone surrogate is a failure,
    /// as it is for `JSONDecoder` (Go's encoder never writes one).
    private mutating func readUnicodeEscape() throws(Failure) -> [UInt8] {
        let first = try readHex4()
        var scalar = Unicode.Scalar(first)
        if (0xD800..<0xDC00).contains(first) {
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                throw Failure()
            }
            position += 2
            let second = try readHex4()
            guard (0xDC00..<0xE000).contains(second) else { throw Failure() }
            scalar = Unicode.Scalar(0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00))
        }
        guard let scalar else { throw Failure() }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func readHex4() throws(Failure) -> UInt16 {
        guard position + 4 <= bytes.count else { throw Failure() }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Failure()
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        skipWhitespace()
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw Failure() }
        for offset in 0..<count where bytes[position + offset] != literal.utf8Start[offset] { throw Failure() }
        position += count
    }

    private mutating func peek() throws(Failure) -> UInt8 {
        skipWhitespace()
        guard position < bytes.count else { throw Failure() }
        return bytes[position]
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard try peek() == byte else { throw Failure() }
        position += 1
    }

    private mutating func consume(_ byte: UInt8) throws(Failure) -> Bool {
        guard try peek() == byte else { return false }
        position += 1
        return true
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < bytes.count {
            let byte = bytes[position]
            guard byte <= 0x20, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            position += 1
        }
    }
}
