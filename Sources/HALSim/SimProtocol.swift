import HAL

/// One line received from the simulator (Hardware-sim/PROTOCOL.md): a reply to a request or a
/// pushed event.
enum SimIncoming: Equatable, Sendable {
    case ok(id: UInt64, values: [String])
    case err(id: UInt64, message: String)
    case edge(name: String, rising: Bool, timestamp: MonotonicInstant)
    case adc(name: String, millivolts: Double, timestamp: MonotonicInstant)
    case key(name: String, code: UInt16, pressed: Bool, timestamp: MonotonicInstant)
    /// A push this client does not know (a newer simulator); ignored.
    case otherPush(String)

    /// nil for a line that follows neither form.
    static func parse<S: StringProtocol>(_ line: S) -> SimIncoming? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = fields.first else { return nil }
        if first == "!" {
            guard fields.count >= 2 else { return nil }
            let kind = fields[1]
            switch kind {
            case "edge":
                guard fields.count == 5, fields[3] == "rising" || fields[3] == "falling",
                      let ts = UInt64(fields[4]) else { return nil }
                return .edge(name: String(fields[2]), rising: fields[3] == "rising",
                             timestamp: MonotonicInstant(microseconds: ts))
            case "adc":
                guard fields.count == 5, let mv = Double(fields[3]), mv.isFinite, let ts = UInt64(fields[4]) else { return nil }
                return .adc(name: String(fields[2]), millivolts: mv, timestamp: MonotonicInstant(microseconds: ts))
            case "key":
                guard fields.count == 6, let code = UInt16(fields[3]), fields[4] == "1" || fields[4] == "0",
                      let ts = UInt64(fields[5]) else { return nil }
                return .key(name: String(fields[2]), code: code, pressed: fields[4] == "1",
                            timestamp: MonotonicInstant(microseconds: ts))
            default:
                return .otherPush(String(kind))
            }
        }
        guard let id = UInt64(first), fields.count >= 2 else { return nil }
        switch fields[1] {
        case "ok":
            return .ok(id: id, values: fields.dropFirst(2).map { String($0) })
        case "err":
            return .err(id: id, message: fields.dropFirst(2).joined(separator: " "))
        default:
            return nil
        }
    }
}

extension String {
    /// A field the protocol can carry: non-empty, no whitespace.
    var isSimField: Bool { !isEmpty && !contains(where: { $0.isWhitespace }) }
}
