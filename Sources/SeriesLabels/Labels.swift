/// The label set of one series: name/value pairs sorted by name, each name once, as Prometheus keeps them.
///
/// A pass over 10k servers and 20 rules reads 200k label sets; a `Dictionary` per series (hashing, a seeded
/// hasher, a table) cost more than reading the JSON. Label sets are small, so a sorted array of pairs is
/// cheaper to build and as fast to read. Literal syntax and subscripts work as for a dictionary.
///
/// The pairs are a slice: a reader puts every label set of an answer in one array and hands out slices of it,
/// so that reading an answer allocates once, not once per series. (A slice keeps the whole array alive; the
/// label sets of one answer live and die together anyway.) Changing a label set copies its own pairs only.
public struct Labels: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// One label.
    public struct Label: Sendable, Hashable {
        /// Its name.
        public var name: String
        /// Its value.
        public var value: String

        /// Creates a label.
        @inlinable public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Inlinable: a pass reads 200k label sets, and a call into this module for each cost retaining and releasing
    /// the pairs around it.
    @usableFromInline var pairs: ArraySlice<Label>

    /// No labels.
    public init() {
        pairs = []
    }

    /// The labels of `pairs`; a later pair wins over an earlier one with the same name.
    public init(_ pairs: some Sequence<(String, String)>) {
        self.pairs = []
        for (name, value) in pairs { self[name] = value }
    }

    /// The labels of a dictionary.
    public init(_ dictionary: [String: String]) {
        pairs = ArraySlice(dictionary.map { Label(name: $0.key, value: $0.value) }.sorted { $0.name < $1.name })
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// Builds a label set from pairs read in order, without copying them when they come sorted with each
    /// name once (Prometheus writes them so).
    public init(reading labels: ArraySlice<Label>) {
        if zip(labels, labels.dropFirst()).allSatisfy({ $0.name < $1.name }) {
            pairs = labels
        } else {
            var merged = Labels()
            for label in labels { merged[label.name] = label.value }
            pairs = merged.pairs
        }
    }

    /// A label set of pairs the caller knows are sorted by name with each name once (checked in debug builds).
    @inlinable
    public init(alreadySorted labels: ArraySlice<Label>) {
        assert(zip(labels, labels.dropFirst()).allSatisfy { $0.name < $1.name }, "labels not sorted")
        pairs = labels
    }

    /// The value of label `name`, or `nil`. Setting `nil` removes the label.
    public subscript(name: String) -> String? {
        @inlinable get {
            if pairs.count <= 8 {  // equality alone is cheaper than ordering strings
                for index in pairs.indices where pairs[index].name == name { return pairs[index].value }
                return nil
            }
            guard let index = position(of: name).found else { return nil }
            return pairs[index].value
        }
        set {
            let (index, found) = position(of: name)
            switch (found, newValue) {
            case (let found?, let value?): pairs[found].value = value
            case (let found?, nil): pairs.remove(at: found)
            case (nil, let value?): pairs.insert(Label(name: name, value: value), at: index)
            case (nil, nil): break
            }
        }
    }

    /// The labels named in `names` only.
    public func keeping(_ names: Set<String>) -> Labels {
        var kept = Labels()
        kept.pairs = pairs.filter { names.contains($0.name) }
        return kept
    }

    /// The names, sorted.
    public var names: [String] { pairs.map(\.name) }

    /// The labels as a dictionary.
    public var dictionary: [String: String] {
        Dictionary(uniqueKeysWithValues: pairs.map { ($0.name, $0.value) })
    }

    public var startIndex: Int { pairs.startIndex }
    public var endIndex: Int { pairs.endIndex }
    public subscript(position: Int) -> Label { pairs[position] }

    /// `{job="api", server="s1"}`
    public var description: String {
        "{" + pairs.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ", ") + "}"
    }

    /// Where `name` is, or where it would go.
    @usableFromInline func position(of name: String) -> (index: Int, found: Int?) {
        if pairs.count <= 8 {
            for index in pairs.indices {
                if pairs[index].name == name { return (index, index) }
                if name < pairs[index].name { return (index, nil) }
            }
            return (pairs.endIndex, nil)
        }
        var low = pairs.startIndex
        var high = pairs.endIndex
        while low < high {
            let middle = (low + high) / 2
            if pairs[middle].name < name { low = middle + 1 } else { high = middle }
        }
        return (low, low < pairs.endIndex && pairs[low].name == name ? low : nil)
    }
}

extension Labels: Codable {
    /// A JSON object, as in the Prometheus API.
    public init(from decoder: any Decoder) throws {
        self.init(try [String: String](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try dictionary.encode(to: encoder)
    }
}
