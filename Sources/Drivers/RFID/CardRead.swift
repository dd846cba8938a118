import HAL

/// A card presented at a reader: its UID as uppercase hex, byte 0 first.
public struct CardRead: Hashable, Sendable, CustomStringConvertible {
    public enum Source: Hashable, Sendable, CustomStringConvertible {
        /// A Wiegand reader; `bits` is the frame length (26, 34, or the raw length).
        case wiegand(bits: Int)
        /// A USB reader that types the number as a keyboard; `device` is its input device.
        case keyboard(device: String)

        public var description: String {
            switch self {
            case let .wiegand(bits): return "wiegand-\(bits)"
            case let .keyboard(device): return "keyboard \(device)"
            }
        }
    }

    public var uid: String
    public var at: MonotonicInstant
    public var source: Source

    public init(uid: String, at: MonotonicInstant, source: Source) {
        self.uid = uid
        self.at = at
        self.source = source
    }

    public var description: String { "card \(uid) (\(source)) at \(at)" }
}

/// Input a reader saw but could not turn into a card. Reported, never emitted as a card.
public struct CardReadRejection: Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Error, Hashable, Sendable, CustomStringConvertible {
        /// A Wiegand frame whose parity bits do not match; `bits` is the frame as 0/1 text.
        case parityError(bits: String)
        /// A Wiegand frame of a length no configured format has.
        case unexpectedBitCount(Int, expected: [Int])
        /// Pulses thrown away as noise (both lines low together, or closer than the minimum
        /// bit interval).
        case noise(pulses: Int)
        /// A keyboard reader typed a key that is not a digit of the configured base.
        case unexpectedKey(code: UInt16)
        /// A keyboard entry stopped before Enter; `typed` is what arrived.
        case entryTimedOut(typed: String)
        /// Enter without digits, or more digits than a UID can have.
        case badEntry(typed: String)

        public var description: String {
            switch self {
            case let .parityError(bits): return "Wiegand parity error in frame \(bits)"
            case let .unexpectedBitCount(n, expected):
                return "Wiegand frame of \(n) bits, expected \(expected.map(String.init).joined(separator: " or "))"
            case let .noise(n): return "\(n) noise pulse(s) ignored"
            case let .unexpectedKey(code): return "unexpected key code \(code)"
            case let .entryTimedOut(typed): return "entry \"\(typed)\" timed out before Enter"
            case let .badEntry(typed): return "entry \"\(typed)\" is not a card number"
            }
        }
    }

    public var reason: Reason
    public var at: MonotonicInstant
    public var source: CardRead.Source

    public init(reason: Reason, at: MonotonicInstant, source: CardRead.Source) {
        self.reason = reason
        self.at = at
        self.source = source
    }

    public var description: String { "\(source): \(reason) at \(at)" }
}

/// What every card reader offers the firmware: poll it with the current instant, get cards.
public protocol CardReader: AnyObject {
    /// Cards completed up to `now`, oldest first. Never blocks.
    func poll(at now: MonotonicInstant) throws -> [CardRead]
    /// Rejected input since the last call, oldest first.
    func drainRejections() -> [CardReadRejection]
    /// A card is being read (a frame or a typed number in progress): poll again within a few
    /// milliseconds, or it only completes at the next unrelated poll.
    var isReadingCard: Bool { get }
}

/// Uppercase hex of bytes, byte 0 first.
func uppercaseHex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789ABCDEF")
    var s = ""
    s.reserveCapacity(bytes.count * 2)
    for b in bytes {
        s.append(digits[Int(b >> 4)])
        s.append(digits[Int(b & 0x0F)])
    }
    return s
}
