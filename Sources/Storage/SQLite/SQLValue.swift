/// A value SQLite can store: the five storage classes.
public enum SQLValue: Equatable, Hashable, Sendable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null

    public static func int(_ value: Int) -> SQLValue { .integer(Int64(value)) }

    /// `nil` becomes NULL; handy for optional columns.
    public static func text(orNull value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    public static func integer(orNull value: Int64?) -> SQLValue { value.map { .integer($0) } ?? .null }
    public static func real(orNull value: Double?) -> SQLValue { value.map { .real($0) } ?? .null }
}

extension SQLValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByNilLiteral
{
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(nilLiteral: ()) { self = .null }
}
