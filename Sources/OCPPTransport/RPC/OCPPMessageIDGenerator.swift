import Locking
import Synchronization

/// Makes message ids for outbound CALLs: unique per connection and at most 36 characters.
public struct OCPPMessageIDGenerator: Sendable {
    private let make: @Sendable () -> String

    public init(_ make: @escaping @Sendable () -> String) { self.make = make }

    public func next() -> String { make() }

    /// Random version-4 UUIDs in text form (36 characters).
    public static var randomUUID: OCPPMessageIDGenerator {
        OCPPMessageIDGenerator {
            var generator = SystemRandomNumberGenerator()
            return uuidString(high: generator.next(), low: generator.next())
        }
    }

    /// "<prefix>1", "<prefix>2", …: predictable ids for tests and logs.
    public static func sequential(prefix: String = "") -> OCPPMessageIDGenerator {
        let counter = Mutex<UInt64>(0)
        return OCPPMessageIDGenerator {
            let n = counter.locked { value -> UInt64 in value += 1; return value }
            return prefix + String(n)
        }
    }

    static func uuidString(high: UInt64, low: UInt64) -> String {
        // Version 4, variant 10xx.
        let h = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let l = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(36)
        for (index, word) in [h, l].enumerated() {
            for nibble in 0..<16 {
                let position = index * 16 + nibble
                if position == 8 || position == 12 || position == 16 || position == 20 { out.append("-") }
                out.append(digits[Int((word >> UInt64(60 - nibble * 4)) & 0xF)])
            }
        }
        return out
    }
}
