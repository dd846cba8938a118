import HAL
import HALFake
import Testing
@testable import Drivers

/// Builds Wiegand frames and plays them onto two fake GPIO lines as a reader would: idle
/// high, a ~50 µs low pulse per bit, 2 ms between bits.
struct WiegandWire {
    let backend = FakeBackend()
    let d0: FakeGPIOLine
    let d1: FakeGPIOLine
    var t: MonotonicInstant

    init(edges: GPIOEdgeDetection = .both, start: MonotonicInstant = MonotonicInstant(microseconds: 1_000_000)) throws {
        let config = GPIOLineConfig(direction: .input, edges: edges)
        d0 = try #require(try backend.openGPIOLine(.name("rfid.d0"), config: config) as? FakeGPIOLine)
        d1 = try #require(try backend.openGPIOLine(.name("rfid.d1"), config: config) as? FakeGPIOLine)
        t = start
        d0.drive(true, at: t)
        d1.drive(true, at: t)
    }

    mutating func send(_ bits: [Bool], interval: EVSEDuration = .milliseconds(2)) {
        for bit in bits {
            t = t + interval
            pulse(bit ? d1 : d0, at: t)
        }
    }

    func pulse(_ line: FakeGPIOLine, at instant: MonotonicInstant, width: EVSEDuration = .microseconds(50)) {
        line.drive(false, at: instant)
        line.drive(true, at: instant + width)
    }

    mutating func wait(_ d: EVSEDuration) { t = t + d }
}

func bits(_ value: UInt64, count: Int) -> [Bool] {
    (0..<count).map { i in (value >> UInt64(count - 1 - i)) & 1 == 1 }
}

/// A valid frame: even parity over the first half of the payload, odd over the second.
func wiegandFrame(payload: UInt64, payloadBits: Int) -> [Bool] {
    let p = bits(payload, count: payloadBits)
    let half = payloadBits / 2
    let evenParity = p[..<half].filter { $0 }.count % 2 == 1
    let oddParity = p[half...].filter { $0 }.count % 2 == 0
    return [evenParity] + p + [oddParity]
}

@Suite("Wiegand decoding")
struct WiegandDecoderTests {
    @Test("Wiegand 26: facility 8 + card 16, UID is the 3 payload bytes")
    func wiegand26() throws {
        var wire = try WiegandWire()
        let reader = WiegandReader(d0: wire.d0, d1: wire.d1)
        wire.send(wiegandFrame(payload: 0x12_3456, payloadBits: 24))
        let cards = try reader.poll(at: wire.t + .milliseconds(30))
        #expect(cards.map(\.uid) == ["123456"])
        #expect(cards.first?.source == .wiegand(bits: 26))
        #expect(cards.first?.at == wire.t)
        #expect(reader.lastFrames.first?.facilityCode == 0x12)
        #expect(reader.lastFrames.first?.cardNumber == 0x3456)
        #expect(reader.drainRejections().isEmpty)
    }

    @Test("Wiegand 34: 32-bit payload, UID byte 0 first")
    func wiegand34() throws {
        var wire = try WiegandWire()
        let reader = WiegandReader(d0: wire.d0, d1: wire.d1)
        wire.send(wiegandFrame(payload: 0x04A2_B3C4, payloadBits: 32))
        #expect(try reader.poll(at: wire.t + .milliseconds(25)).map(\.uid) == ["04A2B3C4"])
    }

    @Test("raw N-bit frames: every bit is payload, left-padded to whole bytes")
    func rawFrames() throws {
        var wire = try WiegandWire()
        let reader = WiegandReader(d0: wire.d0, d1: wire.d1,
                                   config: WiegandConfig(formats: [.raw(bits: 40), .raw(bits: 37)]))
        wire.send(bits(0x01_0203_0405, count: 40))
        #expect(try reader.poll(at: wire.t + .milliseconds(30)).map(\.uid) == ["0102030405"])
        wire.wait(.milliseconds(100))
        wire.send(bits(0x1F_FFFF_FFFF, count: 37))
        #expect(try reader.poll(at: wire.t + .milliseconds(30)).map(\.uid) == ["1FFFFFFFFF"])
    }

    @Test("a frame with a wrong parity bit is reported, not emitted", arguments: [0, 25])
    func parityError(flippedBit: Int) throws {
        var wire = try WiegandWire()
        let reader = WiegandReader(d0: wire.d0, d1: wire.d1)
        var frame = wiegandFrame(payload: 0xAB_CDEF, payloadBits: 24)
        frame[flippedBit].toggle()
        wire.send(frame)
        #expect(try reader.poll(at: wire.t + .milliseconds(30)).isEmpty)
        let rejections = reader.drainRejections()
        #expect(rejections.count == 1)
        guard case .parityError = rejections.first?.reason else {
            Issue.record("expected a parity error, got \(rejections)")
            return
        }
    }

    @Test("a payload bit flipped breaks the parity of its half")
    func payloadBitFlip() {
        var frame = wiegandFrame(payload: 0x00_0001, payloadBits: 24)
        frame[20].toggle()
        let result = WiegandDecoder.decode(frame, formats: [.wiegand26])
        #expect(throws: CardReadRejection.Reason.self) { try result.get() }
    }

    @Test("a frame of an unexpected length is reported with its bit count")
    func unexpectedBitCount() throws {
        var wire = try WiegandWire()
        let reader = WiegandReader(d0: wire.d0, d1: wire.d1)
        wire.send(bits(0x2AAA_AAAA, count: 30))
        #expect(try reader.poll(at: wire.t + .milliseconds(30)).isEmpty)
        #expect(reader.drainRejections().map(\.reason) == [.unexpectedBitCount(30, expected: [26, 34])])
    }

    @Test("both lines low at the same time: the two pulses are noise, the frame survives")
    func bothLinesLow() throws {
        var wire = try WiegandWire()
        let reader = WiegandReader(d0: wire.d0, d1: wire.d1)
        let frame = wiegandFrame(payload: 0x12_3456, payloadBits: 24)
        wire.send(Array(frame[..<10]))
        // A spike pulls both lines low for 30 µs, 1 ms after bit 10.
        let spike = wire.t + .milliseconds(1)
        wire.d0.drive(false, at: spike)
        wire.d1.drive(false, at: spike + .microseconds(5))
        wire.d0.drive(true, at: spike + .microseconds(30))
        wire.d1.drive(true, at: spike + .microseconds(35))
        wire.send(Array(frame[10...]))
        #expect(try reader.poll(at: wire.t + .milliseconds(30)).map(\.uid) == ["123456"])
        #expect(reader.drainRejections().map(\.reason) == [.noise(pulses: 2)])
    }

    @Test("a pulse closer than the minimum bit interval is ignored")
    func glitch() throws {
        var wire = try WiegandWire()
        let reader = WiegandReader(d0: wire.d0, d1: wire.d1)
        let frame = wiegandFrame(payload: 0x00_FF00, payloadBits: 24)
        wire.send(Array(frame[..<5]))
        // A bounce on D1 80 µs after the last bit (on whichever line).
        wire.pulse(wire.d1, at: wire.t + .microseconds(80), width: .microseconds(10))
        wire.send(Array(frame[5...]))
        #expect(try reader.poll(at: wire.t + .milliseconds(30)).map(\.uid) == ["00FF00"])
        #expect(reader.drainRejections().count == 1)
    }

    @Test("the frame ends only after the gap: bits drained in several polls decode as one frame")
    func frameAcrossPolls() throws {
        var wire = try WiegandWire()
        let reader = WiegandReader(d0: wire.d0, d1: wire.d1)
        let frame = wiegandFrame(payload: 0x65_4321, payloadBits: 24)
        wire.send(Array(frame[..<13]))
        #expect(try reader.poll(at: wire.t + .milliseconds(1)).isEmpty)
        wire.send(Array(frame[13...]))
        #expect(try reader.poll(at: wire.t + .milliseconds(24)).isEmpty, "gap not over yet")
        #expect(try reader.poll(at: wire.t + .milliseconds(25)).map(\.uid) == ["654321"])
        #expect(reader.drainRejections().isEmpty)
    }

    @Test("a pause longer than the gap splits the bits into two bad frames")
    func splitFrame() throws {
        var wire = try WiegandWire()
        let reader = WiegandReader(d0: wire.d0, d1: wire.d1)
        let frame = wiegandFrame(payload: 0x65_4321, payloadBits: 24)
        wire.send(Array(frame[..<13]))
        wire.wait(.milliseconds(40))
        wire.send(Array(frame[13...]))
        #expect(try reader.poll(at: wire.t + .milliseconds(30)).isEmpty)
        #expect(reader.drainRejections().map(\.reason) == [
            .unexpectedBitCount(13, expected: [26, 34]), .unexpectedBitCount(13, expected: [26, 34]),
        ])
    }

    @Test("two cards in one poll, falling edges only (no rising edges requested)")
    func twoFramesFallingOnly() throws {
        var wire = try WiegandWire(edges: .falling)
        let reader = WiegandReader(d0: wire.d0, d1: wire.d1)
        wire.send(wiegandFrame(payload: 0x11_1111, payloadBits: 24))
        wire.wait(.milliseconds(60))
        wire.send(wiegandFrame(payload: 0x2222_2222, payloadBits: 32))
        let cards = try reader.poll(at: wire.t + .milliseconds(30))
        #expect(cards.map(\.uid) == ["111111", "22222222"])
        #expect(cards.map(\.source) == [.wiegand(bits: 26), .wiegand(bits: 34)])
    }

    @Test("a failing line throws and loses no edges of the other line")
    func lineFailure() throws {
        var wire = try WiegandWire()
        let reader = WiegandReader(d0: wire.d0, d1: wire.d1)
        wire.send(wiegandFrame(payload: 0x12_3456, payloadBits: 24))
        wire.d1.fail(with: HardwareError(.ioFailed, device: "rfid.d1", "gone"))
        #expect(throws: HardwareError.self) { try reader.poll(at: wire.t + .milliseconds(30)) }
        wire.d1.fail(with: nil)
        #expect(try reader.poll(at: wire.t + .milliseconds(30)).map(\.uid) == ["123456"])
    }
}
