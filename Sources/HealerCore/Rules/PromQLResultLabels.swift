/// The labels a PromQL expression's result can carry, when its shape says so with certainty.
///
/// An aggregation with `by (…)` keeps exactly those labels (`sum(x)` keeps none); a binary operation between such
/// operands (and numbers), with no `on`, `ignoring`, `group_left`/`group_right` or `bool`, keeps its left vector's
/// labels (one-to-one matching needs the same labels on both sides; `and`/`unless` keep the left side's). Anything
/// else — a bare selector, `without`, `count_values`, `or`, a function call, `label_replace` — may carry any label:
/// `nil`. Used to warn that a pool's target template reads a label the rule's answer cannot have.
public enum PromQLResultLabels {
    private static let aggregations: Set<String> = [
        "sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk", "quantile", "limitk", "limit_ratio",
    ]
    private static let binarySymbols: Set<String> = ["+", "-", "*", "/", "%", "^", "==", "!=", "<", "<=", ">", ">="]
    private static let binaryWords: Set<String> = ["and", "unless"]

    /// The labels of `expression`'s result, or `nil` when they cannot be told.
    public static func labels(of expression: String) -> Set<String>? {
        guard let tokens = PromQLLexer.tokens(of: expression) else { return nil }
        var reader = SelectorReader(tokens: tokens)
        guard reader.read() != nil else { return nil }  // not an expression Prometheus would accept
        var index = 0
        var result: Set<String>?
        var sawVector = false
        while true {
            // An operand: a number, or an aggregation with its grouping.
            if case .number? = token(tokens, index) {
                index += 1
            } else if case .symbol("-")? = token(tokens, index), case .number? = token(tokens, index + 1) {
                index += 2
            } else {
                guard let (labels, next) = aggregation(tokens, at: index) else { return nil }
                if !sawVector { result = labels }
                sawVector = true
                index = next
            }
            guard index < tokens.count else { break }
            // An operator without matching modifiers.
            switch tokens[index] {
            case .symbol(let symbol) where binarySymbols.contains(symbol): index += 1
            case .word(let word) where binaryWords.contains(word.lowercased()): index += 1
            default: return nil
            }
            if case .word(let word)? = token(tokens, index), ["on", "ignoring", "group_left", "group_right", "bool"].contains(word.lowercased()) {
                return nil
            }
        }
        return sawVector ? result : nil
    }

    private static func token(_ tokens: [PromQLToken], _ index: Int) -> PromQLToken? {
        index < tokens.count ? tokens[index] : nil
    }

    /// `agg by (a, b) (…)` or `agg (…) by (a, b)` at `index`: its labels and the index after it.
    private static func aggregation(_ tokens: [PromQLToken], at start: Int) -> (Set<String>, Int)? {
        guard case .word(let name)? = token(tokens, start), aggregations.contains(name.lowercased()) else { return nil }
        var index = start + 1
        var labels: Set<String>?
        if let (grouping, next) = grouping(tokens, at: index) {
            labels = grouping
            index = next
        } else if case .word(let word)? = token(tokens, index), word.lowercased() == "without" {
            return nil
        }
        guard case .symbol("(")? = token(tokens, index) else { return nil }
        var depth = 0
        repeat {
            if case .symbol("(")? = token(tokens, index) { depth += 1 }
            if case .symbol(")")? = token(tokens, index) { depth -= 1 }
            index += 1
        } while depth > 0 && index < tokens.count
        guard depth == 0 else { return nil }
        if labels == nil {
            if let (grouping, next) = grouping(tokens, at: index) {
                labels = grouping
                index = next
            } else if case .word(let word)? = token(tokens, index), word.lowercased() == "without" {
                return nil
            }
        }
        return (labels ?? [], index)
    }

    /// `by (a, b)` at `index`: the names and the index after `)`.
    private static func grouping(_ tokens: [PromQLToken], at start: Int) -> (Set<String>, Int)? {
        guard case .word(let word)? = token(tokens, start), word.lowercased() == "by", case .symbol("(")? = token(tokens, start + 1) else {
            return nil
        }
        var names: Set<String> = []
        var index = start + 2
        while let current = token(tokens, index) {
            switch current {
            case .symbol(")"): return (names, index + 1)
            case .symbol(","): index += 1
            case .word(let name):
                names.insert(name)
                index += 1
            case .string(let quoted):  // a quoted label name (UTF-8 names)
                names.insert(String(quoted.dropFirst().dropLast()))
                index += 1
            default: return nil
            }
        }
        return nil
    }
}
