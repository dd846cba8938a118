import CModbus
import HAL
import Locking
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A Modbus master through libmodbus: RTU on a serial line (RS-485 or RS-232) or TCP.
///
/// Each request is bounded by the configured response timeout. The link is opened on the
/// first request; when it drops (connection reset, broken pipe, a TCP timeout that may leave
/// a late answer in the socket), it is closed and the next request opens it again. Requests
/// from several threads are serialized: one transaction at a time on the wire.
public final class LinuxModbusBus: ModbusBus {
    public let config: ModbusBusConfig
    public var name: String { config.name }
    private let state = Mutex(Link())

    private struct Link {
        var context: OpaquePointer?
        var connected = false
    }

    /// Validates the configuration; nothing is opened until the first request.
    public init(config: ModbusBusConfig) throws {
        self.config = config
        if case let .rtu(device, baud, _, dataBits, stopBits, _) = config.link {
            let where_ = device
            guard baud > 0 else { throw HardwareError(.invalidArgument, device: where_, "baud rate \(baud) must be positive") }
            guard (5...8).contains(dataBits) else {
                throw HardwareError(.invalidArgument, device: where_, "data bits \(dataBits) must be 5…8")
            }
            guard (1...2).contains(stopBits) else {
                throw HardwareError(.invalidArgument, device: where_, "stop bits \(stopBits) must be 1 or 2")
            }
        }
        if case let .tcp(host, port) = config.link {
            guard (1...65535).contains(port) else {
                throw HardwareError(.invalidArgument, device: "modbus tcp \(host):\(port)", "port \(port) must be 1…65535")
            }
        }
        guard config.responseTimeout.microseconds > 0 else {
            throw HardwareError(.invalidArgument, device: config.name, "response timeout must be positive")
        }
    }

    deinit {
        state.locked { link in
            if let ctx = link.context {
                if link.connected { modbus_close(ctx) }
                modbus_free(ctx)
            }
            link.context = nil
        }
    }

    /// What the person at the board recognizes: the serial device or the TCP endpoint.
    public var deviceDescription: String {
        switch config.link {
        case let .rtu(device, baud, parity, dataBits, stopBits, _):
            return "\(device) (\(baud) \(dataBits)\(parity.rawValue.prefix(1).uppercased())\(stopBits))"
        case let .tcp(host, port):
            return "modbus tcp \(host):\(port)"
        }
    }

    private var isTCP: Bool {
        if case .tcp = config.link { return true }
        return false
    }

    public func readRegisters(unit: UInt8, function: ModbusFunction, address: UInt16, count: UInt16) throws -> [UInt16] {
        guard (1...UInt16(MODBUS_MAX_READ_REGISTERS)).contains(count) else {
            throw HardwareError(.invalidArgument, device: deviceDescription,
                                "cannot read \(count) registers in one request (1…\(MODBUS_MAX_READ_REGISTERS))")
        }
        guard UInt32(address) + UInt32(count) <= 0x1_0000 else {
            throw HardwareError(.invalidArgument, device: deviceDescription,
                                "registers \(address)+\(count) run past address 65535")
        }
        let what = "reading \(count) \(function == .readInputRegisters ? "input" : "holding") register(s) at \(address)"
        return try transaction(unit: unit, what: what) { ctx in
            var words = [UInt16](repeating: 0, count: Int(count))
            let rc = words.withUnsafeMutableBufferPointer { buf -> Int32 in
                switch function {
                case .readHoldingRegisters: return modbus_read_registers(ctx, Int32(address), Int32(count), buf.baseAddress)
                case .readInputRegisters: return modbus_read_input_registers(ctx, Int32(address), Int32(count), buf.baseAddress)
                }
            }
            if rc < 0 { return .failure(ModbusCallFailure(code: errno)) }
            guard rc == Int32(count) else {
                return .failure(ModbusCallFailure(code: ModbusErrno.shortAnswer))
            }
            return .success(words)
        }
    }

    public func writeRegisters(unit: UInt8, address: UInt16, values: [UInt16]) throws {
        guard (1...Int(MODBUS_MAX_WRITE_REGISTERS)).contains(values.count) else {
            throw HardwareError(.invalidArgument, device: deviceDescription,
                                "cannot write \(values.count) registers in one request (1…\(MODBUS_MAX_WRITE_REGISTERS))")
        }
        let what = "writing \(values.count) holding register(s) at \(address)"
        _ = try transaction(unit: unit, what: what) { ctx in
            let rc = values.withUnsafeBufferPointer { modbus_write_registers(ctx, Int32(address), Int32(values.count), $0.baseAddress) }
            if rc < 0 { return .failure(ModbusCallFailure(code: errno)) }
            return .success([])
        }
    }

    /// Runs one request on a connected context, under the lock. `body` returns the errno of
    /// a failed libmodbus call, read before anything else can change it.
    private func transaction(unit: UInt8, what: String,
                             _ body: (OpaquePointer) -> Result<[UInt16], ModbusCallFailure>) throws -> [UInt16] {
        try state.locked { link throws(HardwareError) -> [UInt16] in
            let ctx = try connect(&link)
            guard modbus_set_slave(ctx, Int32(unit)) == 0 else {
                throw HardwareError(.invalidArgument, device: deviceDescription, "unit id \(unit) is not valid on this bus")
            }
            switch body(ctx) {
            case let .success(words):
                return words
            case let .failure(failure):
                let code = failure.code
                let error = requestError(code, unit: unit, what: what)
                recover(&link, after: code)
                throw error
            }
        }
    }

    private func connect(_ link: inout Link) throws(HardwareError) -> OpaquePointer {
        if let ctx = link.context, link.connected { return ctx }
        if link.context == nil {
            let ctx: OpaquePointer?
            switch config.link {
            case let .rtu(device, baud, parity, dataBits, stopBits, _):
                let p: UInt8 = switch parity { case .none: UInt8(ascii: "N"); case .even: UInt8(ascii: "E"); case .odd: UInt8(ascii: "O") }
                ctx = modbus_new_rtu(device, Int32(baud), CChar(bitPattern: p), Int32(dataBits), Int32(stopBits))
            case let .tcp(host, port):
                ctx = modbus_new_tcp_pi(host, String(port))
            }
            guard let ctx else {
                let code = errno
                throw HardwareError(.invalidArgument, device: deviceDescription,
                                    "libmodbus refused the settings: \(Self.message(code))")
            }
            let timeout = config.responseTimeout.microseconds
            modbus_set_response_timeout(ctx, UInt32(timeout / 1_000_000), UInt32(timeout % 1_000_000))
            link.context = ctx
        }
        guard let ctx = link.context else {
            throw HardwareError(.ioFailed, device: deviceDescription, "no libmodbus context")
        }
        if modbus_connect(ctx) != 0 {
            let code = errno
            throw connectError(code)
        }
        if case .rtu(_, _, _, _, _, true) = config.link, modbus_rtu_set_serial_mode(ctx, MODBUS_RTU_RS485) != 0 {
            let code = errno
            modbus_close(ctx)
            throw HardwareError(.invalidArgument, device: deviceDescription,
                                "cannot switch the port to RS-485 mode (TIOCSRS485: \(Self.message(code))); "
                                + "set rs485: false if the adapter switches the transceiver itself (most USB adapters do)")
        }
        link.connected = true
        return ctx
    }

    /// Leaves the link usable for the next request.
    private func recover(_ link: inout Link, after code: Int32) {
        guard let ctx = link.context else { return }
        if ModbusErrno.isException(code) || code == ModbusErrno.shortAnswer { return }
        if isTCP || code == ECONNRESET || code == EPIPE || code == EIO || code == ENXIO || code == EBADF {
            // A late answer may still arrive on this socket and be taken for the next one.
            modbus_close(ctx)
            link.connected = false
        } else {
            modbus_flush(ctx)
        }
    }

    private func connectError(_ code: Int32) -> HardwareError {
        switch config.link {
        case let .rtu(device, _, _, _, _, _):
            switch code {
            case ENOENT, ENODEV, ENXIO:
                return HardwareError(.deviceMissing, device: device, "serial device not found (is the RS-485 adapter plugged in?)")
            case EACCES, EPERM:
                return HardwareError(.permissionDenied, device: device,
                                     "permission denied opening the serial device (add the user to the dialout group)")
            case EBUSY:
                return HardwareError(.busy, device: device, "serial device is in use by another program")
            default:
                return HardwareError(.ioFailed, device: device, "cannot open the serial device: \(Self.message(code))")
            }
        case let .tcp(host, port):
            let endpoint = "\(host):\(port)"
            switch code {
            case ECONNREFUSED:
                return HardwareError(.disconnected, device: deviceDescription,
                                     "connection refused by \(endpoint) (is the meter or gateway listening on that port?)")
            case ETIMEDOUT, EINPROGRESS:
                return HardwareError(.timeout, device: deviceDescription, "no connection to \(endpoint) within \(config.responseTimeout)")
            case EHOSTUNREACH, ENETUNREACH:
                return HardwareError(.disconnected, device: deviceDescription, "\(endpoint) is unreachable")
            default:
                return HardwareError(.disconnected, device: deviceDescription, "cannot connect to \(endpoint): \(Self.message(code))")
            }
        }
    }

    private func requestError(_ code: Int32, unit: UInt8, what: String) -> HardwareError {
        let prefix = "unit \(unit), \(what)"
        if let exception = ModbusErrno.exceptionName(code) {
            return HardwareError(.protocolError, device: deviceDescription,
                                 "\(prefix): the device answered exception \(code - ModbusErrno.base) (\(exception))")
        }
        switch code {
        case ETIMEDOUT:
            return HardwareError(.timeout, device: deviceDescription,
                                 "\(prefix): no answer within \(config.responseTimeout) (check wiring, unit id, baud rate and parity)")
        case ECONNRESET, EPIPE, ENOTCONN, EBADF:
            return HardwareError(.disconnected, device: deviceDescription, "\(prefix): link dropped (\(Self.message(code))); reconnecting on the next request")
        case ModbusErrno.badCRC:
            return HardwareError(.ioFailed, device: deviceDescription, "\(prefix): answer failed its CRC check (noise or wrong baud rate)")
        case ModbusErrno.shortAnswer:
            return HardwareError(.protocolError, device: deviceDescription, "\(prefix): the answer held fewer registers than asked for")
        case ModbusErrno.badData, ModbusErrno.badException, ModbusErrno.unknownException, ModbusErrno.tooMuchData, ModbusErrno.badSlave:
            return HardwareError(.protocolError, device: deviceDescription, "\(prefix): malformed answer (\(Self.message(code)))")
        default:
            return HardwareError(.ioFailed, device: deviceDescription, "\(prefix): \(Self.message(code))")
        }
    }

    private static func message(_ code: Int32) -> String {
        guard let s = modbus_strerror(code) else { return "error \(code)" }
        return String(cString: s)
    }
}

/// The errno of a failed libmodbus call.
struct ModbusCallFailure: Error {
    var code: Int32
}

/// libmodbus's own errno values (MODBUS_ENOBASE + n). The header's macros are expressions
/// the importer does not carry over, so they are spelled out here.
enum ModbusErrno {
    static let base: Int32 = 112_345_678
    static let badCRC = base + 12
    static let badData = base + 13
    static let badException = base + 14
    static let unknownException = base + 15
    static let tooMuchData = base + 16
    static let badSlave = base + 17
    /// Not libmodbus's: a read that returned fewer registers than asked.
    static let shortAnswer: Int32 = -1

    static func isException(_ code: Int32) -> Bool { exceptionName(code) != nil }

    static func exceptionName(_ code: Int32) -> String? {
        switch code - base {
        case 1: return "illegal function"
        case 2: return "illegal data address"
        case 3: return "illegal data value"
        case 4: return "server device failure"
        case 5: return "acknowledge"
        case 6: return "server device busy"
        case 7: return "negative acknowledge"
        case 8: return "memory parity error"
        case 10: return "gateway path unavailable"
        case 11: return "gateway target device failed to respond"
        default: return nil
        }
    }
}
