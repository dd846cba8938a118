import HAL

/// A Wiegand frame layout the reader is configured to accept.
public enum WiegandFormat: Hashable, Sendable, CustomStringConvertible {
    /// 26 bits: even parity over bits 1–12, 24-bit payload (facility 8 + card 16), odd parity
    /// over bits 13–24.
    case wiegand26
    /// 34 bits: even parity over bits 1–16, 32-bit payload, odd parity over bits 17–32.
    case wiegand34
    /// Every bit is payload, no parity (readers that send the card's serial as is).
    case raw(bits: Int)

    public var bitCount: Int {
        switch self {
        case .wiegand26: return 26
        case .wiegand34: return 34
        case let .raw(bits): return bits
        }
    }

    public var description: String {
        switch self {
        case .wiegand26: return "wiegand26"
        case .wiegand34: return "wiegand34"
        case let .raw(bits): return "raw\(bits)"
        }
    }
}

public struct WiegandConfig: Hashable, Sendable {
    /// Accepted layouts; a frame takes the first one of its length.
    public var formats: [WiegandFormat]
    /// Silence after the last bit that ends a frame. Readers pause ≥ 2 ms between bits at
    /// most, and at least 50 ms between frames.
    public var frameGap: EVSEDuration
    /// Bits closer than this (on any line) are noise: the Wiegand spec puts them ≥ 200 µs apart.
    public var minimumBitInterval: EVSEDuration

    public init(formats: [WiegandFormat] = [.wiegand26, .wiegand34],
                frameGap: EVSEDuration = .milliseconds(25),
                minimumBitInterval: EVSEDuration = .microseconds(150)) {
        self.formats = formats
        self.frameGap = frameGap
        self.minimumBitInterval = minimumBitInterval
    }
}

public enum WiegandDataLine: String, Hashable, Sendable {
    /// Pulses low for a 0 bit.
    case d0
    /// Pulses low for a 1 bit.
    case d1
}

/// A frame that passed its format's checks.
public struct WiegandFrame: Hashable, Sendable {
    public var format: WiegandFormat
    /// Every bit as received, parity included.
    public var bits: [Bool]
    /// The payload, big-endian, left-padded with zero bits to whole bytes.
    public var payload: [UInt8]
    /// Wiegand 26 only: the 8-bit facility code and the 16-bit card number.
    public var facilityCode: UInt32?
    public var cardNumber: UInt32?
    public var lastBitAt: MonotonicInstant

    public var uid: String { uppercaseHex(payload) }
}

public enum WiegandOutcome: Hashable, Sendable {
    case card(CardRead, WiegandFrame)
    case rejected(CardReadRejection)
}

/// Turns D0/D1 falling edges into frames, using only the edges' timestamps: it never reads a
/// clock. Feed it events in timestamp order, then ask it to close frames at `now`.
public struct WiegandDecoder: Sendable {
    public let config: WiegandConfig

    private var bits: [Bool] = []
    private var lastBitAt: MonotonicInstant?
    /// Last falling edge of any kind (bit or noise): frames end after a gap from it, and the
    /// minimum interval is measured from it so a burst of noise is dropped entirely.
    private var lastFallingAt: MonotonicInstant?
    private var lastFallingAccepted = false
    private var noisePulses = 0
    /// Whether each line is low now; only known once the line has shown a rising edge (lines
    /// requested for falling edges only never do).
    private var low: [WiegandDataLine: Bool] = [:]
    private var reportsRising: Set<WiegandDataLine> = []

    public init(config: WiegandConfig = .init()) { self.config = config }

    /// True while a frame is being received.
    public var hasPartialFrame: Bool { !bits.isEmpty || noisePulses > 0 }

    /// Feeds one edge of one line. Returns the previous frame's outcome when this edge comes
    /// after the frame gap.
    public mutating func ingest(_ event: GPIOEdgeEvent, on line: WiegandDataLine) -> [WiegandOutcome] {
        var out: [WiegandOutcome] = []
        let other: WiegandDataLine = line == .d0 ? .d1 : .d0
        switch event.edge {
        case .rising:
            reportsRising.insert(line)
            low[line] = false
            return out
        case .falling:
            break
        }
        if let last = lastFallingAt, event.timestamp - last >= config.frameGap {
            out += finish(at: event.timestamp)
        }
        let otherHeldLow = reportsRising.contains(other) && low[other] == true
        let tooClose = lastFallingAt.map { event.timestamp - $0 < config.minimumBitInterval } ?? false
        low[line] = true
        if otherHeldLow || tooClose {
            noisePulses += 1
            // Both lines low together: the other line's pulse, already taken as a bit, was
            // part of the same disturbance. Without level information (falling edges only)
            // nothing can be said about it; a frame with an extra bit fails its checks anyway.
            if otherHeldLow, lastFallingAccepted, lastBitLine == other, !bits.isEmpty {
                bits.removeLast()
                noisePulses += 1
                lastBitAt = nil
                lastBitLine = nil
            }
            lastFallingAccepted = false
        } else {
            bits.append(line == .d1)
            lastBitAt = event.timestamp
            lastBitLine = line
            lastFallingAccepted = true
        }
        lastFallingAt = event.timestamp
        return out
    }

    private var lastBitLine: WiegandDataLine?

    /// Closes the frame in progress when `now` is at least the frame gap after its last edge.
    public mutating func finish(at now: MonotonicInstant) -> [WiegandOutcome] {
        guard hasPartialFrame, let last = lastFallingAt, now - last >= config.frameGap else { return [] }
        let frameBits = bits
        let noise = noisePulses
        let at = lastBitAt ?? last
        bits = []
        noisePulses = 0
        lastBitAt = nil
        lastBitLine = nil
        lastFallingAccepted = false
        lastFallingAt = nil

        var out: [WiegandOutcome] = []
        if noise > 0 {
            out.append(.rejected(CardReadRejection(reason: .noise(pulses: noise), at: last,
                                                   source: .wiegand(bits: frameBits.count))))
        }
        guard !frameBits.isEmpty else { return out }
        switch Self.decode(frameBits, formats: config.formats, lastBitAt: at) {
        case let .success(frame):
            out.append(.card(CardRead(uid: frame.uid, at: at, source: .wiegand(bits: frameBits.count)), frame))
        case let .failure(reason):
            out.append(.rejected(CardReadRejection(reason: reason, at: at, source: .wiegand(bits: frameBits.count))))
        }
        return out
    }

    /// Checks and decodes a complete frame.
    public static func decode(_ bits: [Bool], formats: [WiegandFormat],
                              lastBitAt: MonotonicInstant = .zero) -> Result<WiegandFrame, CardReadRejection.Reason> {
        guard let format = formats.first(where: { $0.bitCount == bits.count }) else {
            return .failure(.unexpectedBitCount(bits.count, expected: formats.map(\.bitCount)))
        }
        let payloadBits: ArraySlice<Bool>
        switch format {
        case .wiegand26, .wiegand34:
            let n = bits.count
            let half = (n - 2) / 2
            let evenOnes = bits[0...half].filter { $0 }.count
            let oddOnes = bits[(half + 1)...(n - 1)].filter { $0 }.count
            guard evenOnes % 2 == 0, oddOnes % 2 == 1 else {
                return .failure(.parityError(bits: String(bits.map { $0 ? "1" : "0" })))
            }
            payloadBits = bits[1..<(n - 1)]
        case .raw:
            payloadBits = bits[...]
        }
        let payload = packBigEndian(payloadBits)
        var facility: UInt32?
        var card: UInt32?
        if format == .wiegand26, payload.count == 3 {
            facility = UInt32(payload[0])
            card = UInt32(payload[1]) << 8 | UInt32(payload[2])
        }
        return .success(WiegandFrame(format: format, bits: bits, payload: payload,
                                     facilityCode: facility, cardNumber: card, lastBitAt: lastBitAt))
    }

    private static func packBigEndian(_ bits: ArraySlice<Bool>) -> [UInt8] {
        let pad = (8 - bits.count % 8) % 8
        let padded = Array(repeating: false, count: pad) + bits
        var bytes: [UInt8] = []
        bytes.reserveCapacity(padded.count / 8)
        for start in stride(from: 0, to: padded.count, by: 8) {
            var b: UInt8 = 0
            for bit in padded[start..<start + 8] { b = b << 1 | (bit ? 1 : 0) }
            bytes.append(b)
        }
        return bytes
    }
}
