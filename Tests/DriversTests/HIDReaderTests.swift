import HAL
import HALFake
import Testing
@testable import Drivers

/// Types text as a keyboard reader does: press and release per character, then Enter.
func typeKeys(_ text: String, enter: Bool = true, at start: MonotonicInstant,
              step: EVSEDuration = .milliseconds(4)) -> (events: [KeyEvent], end: MonotonicInstant) {
    let codes: [Character: UInt16] = [
        "1": 2, "2": 3, "3": 4, "4": 5, "5": 6, "6": 7, "7": 8, "8": 9, "9": 10, "0": 11,
        "A": 30, "B": 48, "C": 46, "D": 32, "E": 18, "F": 33, "X": 45,
    ]
    var t = start
    var events: [KeyEvent] = []
    for ch in text.uppercased() {
        guard let code = codes[ch] else { continue }
        if ch.isLetter { events.append(KeyEvent(code: 42, pressed: true, timestamp: t)) }  // shift
        events.append(KeyEvent(code: code, pressed: true, timestamp: t))
        events.append(KeyEvent(code: code, pressed: false, timestamp: t + .milliseconds(1)))
        t = t + step
    }
    if enter {
        events.append(KeyEvent(code: 28, pressed: true, timestamp: t))
        events.append(KeyEvent(code: 28, pressed: false, timestamp: t + .milliseconds(1)))
    }
    return (events, t)
}

@Suite("HID keyboard RFID reader")
struct HIDReaderTests {
    let start = MonotonicInstant(microseconds: 5_000_000)

    func makeReader(_ config: HIDKeyboardReaderConfig = .init()) -> (HIDKeyboardReader, FakeKeyEventSource) {
        let source = FakeBackend().keySource("/dev/input/event3")
        return (HIDKeyboardReader(source: source, config: config), source)
    }

    @Test("decimal digits become big-endian bytes, at least 4")
    func decimal() throws {
        let (reader, source) = makeReader()
        let typed = typeKeys("0012345678", at: start)
        source.inject(typed.events)
        let cards = try reader.poll(at: typed.end + .milliseconds(2))
        #expect(cards.map(\.uid) == ["00BC614E"])
        #expect(cards.first?.source == .keyboard(device: "/dev/input/event3"))
        #expect(cards.first?.at == typed.end)
    }

    @Test("numbers beyond 64 bits convert exactly")
    func longDecimal() throws {
        let (reader, source) = makeReader()
        source.inject(typeKeys("1234567890123456789012", at: start).events)  // beyond 64 bits
        #expect(try reader.poll(at: start + .milliseconds(1_000)).map(\.uid) == ["42ED123B0BD8203A14"])
    }

    @Test("hex digits are kept as typed, uppercased; shift keys ignored")
    func hex() throws {
        let (reader, source) = makeReader(.init(digits: .hex))
        source.inject(typeKeys("04a2b3c4d5e6f7", at: start).events)
        #expect(try reader.poll(at: start + .milliseconds(1_000)).map(\.uid) == ["04A2B3C4D5E6F7"])
    }

    @Test("an odd number of hex digits gets a leading zero nibble")
    func oddHex() throws {
        let (reader, source) = makeReader(.init(digits: .hex))
        source.inject(typeKeys("ABC", at: start).events)
        #expect(try reader.poll(at: start + .milliseconds(1_000)).map(\.uid) == ["0ABC"])
    }

    @Test("a partial entry times out and is reported; the next one reads")
    func timeout() throws {
        let (reader, source) = makeReader(.init(entryTimeout: .milliseconds(300)))
        let partial = typeKeys("12345", enter: false, at: start)
        source.inject(partial.events)
        #expect(try reader.poll(at: partial.end + .milliseconds(100)).isEmpty)
        #expect(reader.drainRejections().isEmpty, "still typing")
        #expect(try reader.poll(at: partial.end + .milliseconds(400)).isEmpty)
        #expect(reader.drainRejections().map(\.reason) == [.entryTimedOut(typed: "12345")])
        let next = typeKeys("255", at: partial.end + .milliseconds(1_000))
        source.inject(next.events)
        #expect(try reader.poll(at: next.end).map(\.uid) == ["000000FF"])
    }

    @Test("digits after a long pause in one drain start a new entry")
    func timeoutWithinOneDrain() throws {
        let (reader, source) = makeReader(.init(entryTimeout: .milliseconds(300)))
        let stale = typeKeys("999", enter: false, at: start)
        let fresh = typeKeys("16", at: stale.end + .milliseconds(2_000))
        source.inject(stale.events + fresh.events)
        #expect(try reader.poll(at: fresh.end).map(\.uid) == ["00000010"])
        #expect(reader.drainRejections().map(\.reason) == [.entryTimedOut(typed: "999")])
    }

    @Test("a non-digit key drops the entry up to Enter")
    func unexpectedKey() throws {
        let (reader, source) = makeReader()
        source.inject(typeKeys("12X34", at: start).events)
        #expect(try reader.poll(at: start + .milliseconds(1_000)).isEmpty)
        #expect(reader.drainRejections().map(\.reason) == [.unexpectedKey(code: 45)])
    }

    @Test("Enter alone is not a card")
    func emptyEntry() throws {
        let (reader, source) = makeReader()
        source.inject(typeKeys("", at: start).events)
        #expect(try reader.poll(at: start + .milliseconds(1_000)).isEmpty)
        #expect(reader.drainRejections().isEmpty)
    }
}
