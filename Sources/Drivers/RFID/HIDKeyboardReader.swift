import HAL

public struct HIDKeyboardReaderConfig: Hashable, Sendable {
    public enum Digits: String, Hashable, Sendable {
        /// The reader types the UID as a decimal number (e.g. "0012345678").
        case decimal
        /// The reader types the UID in hex, byte 0 first (e.g. "04A2B3C4").
        case hex
    }

    public var digits: Digits
    /// A partial entry with no key for this long is dropped.
    public var entryTimeout: EVSEDuration
    /// Decimal entries are widened to at least this many bytes (4: a MIFARE Classic UID
    /// typed as 10 digits stays 4 bytes even when its top byte is 0).
    public var minimumUIDBytes: Int
    /// Longer entries are not card numbers (a stuck key, a barcode scanner).
    public var maximumDigits: Int

    public init(digits: Digits = .decimal, entryTimeout: EVSEDuration = .milliseconds(500),
                minimumUIDBytes: Int = 4, maximumDigits: Int = 40) {
        self.digits = digits
        self.entryTimeout = entryTimeout
        self.minimumUIDBytes = max(1, minimumUIDBytes)
        self.maximumDigits = max(1, maximumDigits)
    }
}

/// A USB RFID reader that acts as a keyboard: it types the card number, then Enter.
public final class HIDKeyboardReader: CardReader {
    public let source: any KeyEventSource
    public let config: HIDKeyboardReaderConfig
    private var typed = ""
    private var lastKeyAt: MonotonicInstant?
    /// An entry that already typed a bad key is dropped up to its Enter.
    private var discarding = false
    private var rejections: [CardReadRejection] = []

    public init(source: any KeyEventSource, config: HIDKeyboardReaderConfig = .init()) {
        self.source = source
        self.config = config
    }

    private var cardSource: CardRead.Source { .keyboard(device: source.name) }

    /// Keys typed without their Enter yet: the entry times out only if polled.
    public var isReadingCard: Bool { !typed.isEmpty || discarding }

    public func poll(at now: MonotonicInstant) throws -> [CardRead] {
        var cards: [CardRead] = []
        for event in try source.drainKeyEvents() where event.pressed {
            expireEntry(at: event.timestamp)
            if let card = handleKey(event) { cards.append(card) }
        }
        expireEntry(at: now)
        return cards
    }

    public func drainRejections() -> [CardReadRejection] {
        defer { rejections.removeAll() }
        return rejections
    }

    private func expireEntry(at now: MonotonicInstant) {
        guard let last = lastKeyAt, now - last >= config.entryTimeout else { return }
        if !typed.isEmpty, !discarding {
            rejections.append(CardReadRejection(reason: .entryTimedOut(typed: typed), at: now, source: cardSource))
        }
        resetEntry()
    }

    private func resetEntry() {
        typed = ""
        lastKeyAt = nil
        discarding = false
    }

    private func handleKey(_ event: KeyEvent) -> CardRead? {
        if Self.modifierKeys.contains(event.code) { return nil }
        if event.code == Self.keyEnter || event.code == Self.keyKeypadEnter {
            defer { resetEntry() }
            guard !discarding, !typed.isEmpty else { return nil }
            guard let bytes = uidBytes(typed) else {
                rejections.append(CardReadRejection(reason: .badEntry(typed: typed), at: event.timestamp, source: cardSource))
                return nil
            }
            return CardRead(uid: uppercaseHex(bytes), at: event.timestamp, source: cardSource)
        }
        lastKeyAt = event.timestamp
        guard !discarding else { return nil }
        guard let ch = Self.character(for: event.code, digits: config.digits) else {
            rejections.append(CardReadRejection(reason: .unexpectedKey(code: event.code), at: event.timestamp, source: cardSource))
            discarding = true
            return nil
        }
        typed.append(ch)
        if typed.count > config.maximumDigits {
            rejections.append(CardReadRejection(reason: .badEntry(typed: typed), at: event.timestamp, source: cardSource))
            discarding = true
        }
        return nil
    }

    private func uidBytes(_ text: String) -> [UInt8]? {
        switch config.digits {
        case .hex:
            var nibbles = text.compactMap { $0.hexDigitValue }
            guard nibbles.count == text.count else { return nil }
            if nibbles.count % 2 == 1 { nibbles.insert(0, at: 0) }
            return stride(from: 0, to: nibbles.count, by: 2).map { UInt8(nibbles[$0] << 4 | nibbles[$0 + 1]) }
        case .decimal:
            // Base conversion on a byte array: numbers longer than 64 bits stay exact.
            var bytes: [UInt8] = []
            for ch in text {
                guard let d = ch.wholeNumberValue, (0...9).contains(d) else { return nil }
                var carry = d
                for i in stride(from: bytes.count - 1, through: 0, by: -1) {
                    let v = Int(bytes[i]) * 10 + carry
                    bytes[i] = UInt8(v & 0xFF)
                    carry = v >> 8
                }
                while carry > 0 {
                    bytes.insert(UInt8(carry & 0xFF), at: 0)
                    carry >>= 8
                }
            }
            if bytes.count < config.minimumUIDBytes {
                bytes.insert(contentsOf: Array(repeating: 0, count: config.minimumUIDBytes - bytes.count), at: 0)
            }
            return bytes
        }
    }

    // Linux input-event-codes.h
    static let keyEnter: UInt16 = 28
    static let keyKeypadEnter: UInt16 = 96
    static let modifierKeys: Set<UInt16> = [42, 54, 29, 97, 56, 100, 58, 69]  // shifts, ctrls, alts, caps/num lock
    static let digitKeys: [UInt16: Character] = [
        11: "0", 2: "1", 3: "2", 4: "3", 5: "4", 6: "5", 7: "6", 8: "7", 9: "8", 10: "9",
        82: "0", 79: "1", 80: "2", 81: "3", 75: "4", 76: "5", 77: "6", 71: "7", 72: "8", 73: "9",
    ]
    static let hexLetterKeys: [UInt16: Character] = [30: "A", 48: "B", 46: "C", 32: "D", 18: "E", 33: "F"]

    static func character(for code: UInt16, digits: HIDKeyboardReaderConfig.Digits) -> Character? {
        if let d = digitKeys[code] { return d }
        if digits == .hex { return hexLetterKeys[code] }
        return nil
    }
}
