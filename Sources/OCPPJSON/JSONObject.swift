/// A JSON object that keeps its members in insertion order (so output is stable and matches
/// what was received) with fast lookup by key.
///
/// OCPP payloads have a handful of members, where a linear scan over the keys beats hashing;
/// objects larger than `indexThreshold` also keep a key → position dictionary.
/// Equality and hashing ignore member order, as JSON object semantics require.
public struct JSONObject: Sendable {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSONValue] = []
    @usableFromInline var index: [String: Int]? = nil

    @usableFromInline static let indexThreshold = 12

    public init() {}

    public init(minimumCapacity: Int) {
        keys.reserveCapacity(minimumCapacity)
        values.reserveCapacity(minimumCapacity)
    }

    /// Members in order; a repeated key keeps its last value at its first position.
    public init(_ members: some Sequence<(String, JSONValue)>) {
        self.init()
        for (key, value) in members { self[key] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// The members in order.
    public var members: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }

    @inlinable
    public func position(of key: String) -> Int? {
        if let index { return index[key] }
        // Compare UTF-8 bytes directly: avoids String's Unicode-canonical comparison.
        var key = key
        return key.withUTF8 { needle -> Int? in
            for i in keys.indices {
                var candidate = keys[i]
                let equal = candidate.withUTF8 { $0.count == needle.count && $0.elementsEqual(needle) }
                if equal { return i }
            }
            return nil
        }
    }

    public func contains(_ key: String) -> Bool { position(of: key) != nil }

    /// Setting nil removes the member (O(n)); setting a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = position(of: key) else { return nil }
            return values[i]
        }
        set {
            if let i = position(of: key) {
                if let newValue {
                    values[i] = newValue
                } else {
                    keys.remove(at: i)
                    values.remove(at: i)
                    rebuildIndex()
                }
            } else if let newValue {
                append(uniqueKey: key, newValue)
            }
        }
    }

    /// Appends without checking for an existing member; the caller guarantees `key` is new.
    @usableFromInline
    mutating func append(uniqueKey key: String, _ value: JSONValue) {
        keys.append(key)
        values.append(value)
        if index != nil {
            index?[key] = keys.count - 1
        } else if keys.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    @usableFromInline
    mutating func rebuildIndex() {
        guard keys.count > Self.indexThreshold else { index = nil; return }
        var map = [String: Int](minimumCapacity: keys.count)
        for (i, key) in keys.enumerated() { map[key] = i }
        index = map
    }
}

extension JSONObject: Hashable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.members {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-member hashes commutatively.
        var combined = 0
        for (key, value) in members {
            var memberHasher = Hasher()
            memberHasher.combine(key)
            memberHasher.combine(value)
            combined = combined &+ memberHasher.finalize()
        }
        hasher.combine(count)
        hasher.combine(combined)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}

extension JSONObject: Sequence {
    public func makeIterator() -> Zip2Sequence<[String], [JSONValue]>.Iterator { members.makeIterator() }
}
