// libgpiod v1 API (1.6.x, Debian 12). A build against libgpiod v2 defines SWIFTEVSE_GPIOD_V2
// (`swift build -Xswiftc -DSWIFTEVSE_GPIOD_V2`) and supplies GPIOv2.swift instead; see GPIOv2.md.
#if !SWIFTEVSE_GPIOD_V2
#if canImport(Glibc)
import Glibc
#endif
import CGPIOD
import HAL

/// The header this file was compiled against must be the v1 one (the shim sets
/// `swiftevse_gpiod_api`); a mismatch is a build configuration error.
private let compiledAgainstAPI: Int32 = swiftevse_gpiod_api

struct GPIOChipAccessV1: GPIOChipAccess {
    /// Where "gpiochipN" names are looked up (always "/dev" outside tests).
    let devRoot: String

    var apiDescription: String {
        let version = gpiod_version_string().map { String(cString: $0) } ?? "?"
        return "libgpiod \(version) (v\(compiledAgainstAPI) API)"
    }

    func request(_ address: GPIOLineAddress, config: GPIOLineConfig) throws -> any RequestedGPIOLine {
        let (chip, line, where_) = try locate(address)
        do {
            try requestLine(line, config: config, where_: where_)
        } catch {
            gpiod_chip_close(chip)
            throw error
        }
        let eventFD: Int32?
        if config.edges != .none {
            let fd = gpiod_line_event_get_fd(line)
            eventFD = fd >= 0 ? fd : nil
        } else {
            eventFD = nil
        }
        return RequestedGPIOLineV1(chip: chip, line: line, description: where_, eventFD: eventFD)
    }

    /// Opens the chip and finds the line. The returned chip handle owns the line.
    private func locate(_ address: GPIOLineAddress) throws -> (chip: OpaquePointer, line: OpaquePointer, where_: String) {
        switch address {
        case let .chipOffset(chipName, offset):
            let chip = try openChip(chipName)
            let chipLabel = gpiod_chip_name(chip).map { String(cString: $0) } ?? chipName
            guard let line = gpiod_chip_get_line(chip, offset) else {
                let count = gpiod_chip_num_lines(chip)
                gpiod_chip_close(chip)
                throw HardwareError(.deviceMissing, device: "\(chipLabel) line \(offset)",
                                    "no such line: \(chipLabel) has \(count) lines (0...\(count == 0 ? 0 : count - 1))")
            }
            return (chip, line, "\(chipLabel) line \(offset)\(Self.lineName(line))")
        case let .name(name):
            errno = 0
            guard let line = gpiod_line_find(name) else {
                let e = errno
                if e == EACCES || e == EPERM {
                    throw HardwareError(.permissionDenied, device: "line \"\(name)\"",
                                        "cannot open the GPIO chips to search for it: permission denied (add the user to the gpio group)")
                }
                if e == 0 || e == ENOENT {
                    throw HardwareError(.deviceMissing, device: "line \"\(name)\"",
                                        "no GPIO line has this name on any chip (`gpioinfo` lists the names the device tree gives)")
                }
                throw hardwareError(errno: e, device: "line \"\(name)\"", doing: "search the GPIO chips")
            }
            guard let chip = gpiod_line_get_chip(line) else {
                throw HardwareError(.ioFailed, device: "line \"\(name)\"", "found, but libgpiod returned no chip")
            }
            let chipLabel = gpiod_chip_name(chip).map { String(cString: $0) } ?? "?"
            return (chip, line, "\(chipLabel) line \(gpiod_line_offset(line)) (\"\(name)\")")
        }
    }

    private static func lineName(_ line: OpaquePointer) -> String {
        guard let n = gpiod_line_name(line) else { return "" }
        return " (\"\(String(cString: n))\")"
    }

    /// "gpiochip0" or "/dev/gpiochip0"; other words are tried as a chip label
    /// (e.g. "pinctrl-bcm2711").
    private func openChip(_ chipName: String) throws -> OpaquePointer {
        let path = chipName.hasPrefix("/") ? chipName : "\(devRoot)/\(chipName)"
        if access(path, F_OK) != 0 {
            if !chipName.hasPrefix("/") && !chipName.hasPrefix("gpiochip"), let chip = gpiod_chip_open_by_label(chipName) {
                return chip
            }
            let present = SysfsIO().list(devRoot).filter { $0.hasPrefix("gpiochip") }
            throw HardwareError(.deviceMissing, device: path,
                                "no such GPIO chip; present: \(present.isEmpty ? "none" : present.joined(separator: ", "))")
        }
        guard let chip = gpiod_chip_open(path) else {
            let e = errno
            if e == EACCES || e == EPERM {
                throw HardwareError(.permissionDenied, device: path, "permission denied (add the user to the gpio group)")
            }
            throw hardwareError(errno: e, device: path, doing: "open GPIO chip")
        }
        return chip
    }

    private func requestLine(_ line: OpaquePointer, config: GPIOLineConfig, where_: String) throws {
        var flags: Int32 = 0
        if config.activeLow { flags |= Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) }
        switch config.bias {
        case .asIs: break
        case .disabled: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .pullUp: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        }
        let requestType: Int32
        var initial: Int32 = 0
        switch (config.direction, config.edges) {
        case let (.output(value), .none):
            requestType = Int32(GPIOD_LINE_REQUEST_DIRECTION_OUTPUT)
            initial = value ? 1 : 0
        case (.output, _):
            throw HardwareError(.invalidArgument, device: where_, "edge detection is only for input lines")
        case (.input, .none): requestType = Int32(GPIOD_LINE_REQUEST_DIRECTION_INPUT)
        case (.input, .rising): requestType = Int32(GPIOD_LINE_REQUEST_EVENT_RISING_EDGE)
        case (.input, .falling): requestType = Int32(GPIOD_LINE_REQUEST_EVENT_FALLING_EDGE)
        case (.input, .both): requestType = Int32(GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES)
        }
        let rc = config.consumer.withCString { consumer -> Int32 in
            var request = gpiod_line_request_config(consumer: consumer, request_type: requestType, flags: flags)
            return gpiod_line_request(line, &request, initial)
        }
        guard rc == 0 else {
            let e = errno
            switch e {
            case EBUSY:
                _ = gpiod_line_update(line)
                let holder = gpiod_line_consumer(line).map { "\"\(String(cString: $0))\"" } ?? "another process or kernel driver"
                throw HardwareError(.busy, device: where_, "line is in use by \(holder)")
            case EACCES, EPERM:
                throw HardwareError(.permissionDenied, device: where_, "permission denied (add the user to the gpio group)")
            case EINVAL where config.bias != .asIs:
                throw HardwareError(.invalidArgument, device: where_,
                                    "the kernel rejected the request; bias \(config.bias.rawValue) needs Linux ≥ 5.5 and a pin controller that supports it")
            default:
                throw hardwareError(errno: e, device: where_, doing: "request line")
            }
        }
    }
}

final class RequestedGPIOLineV1: RequestedGPIOLine, @unchecked Sendable {
    // libgpiod handles; the line is used from the caller's thread (values) and the reader
    // (events through the descriptor only), which the kernel allows concurrently. release()
    // runs after the reader stopped.
    private let chip: OpaquePointer
    private let line: OpaquePointer
    let description: String
    let eventFileDescriptor: Int32?

    init(chip: OpaquePointer, line: OpaquePointer, description: String, eventFD: Int32?) {
        self.chip = chip
        self.line = line
        self.description = description
        eventFileDescriptor = eventFD
    }

    func getValue() throws -> Bool {
        let v = gpiod_line_get_value(line)
        guard v >= 0 else { throw hardwareError(errno: errno, device: description, doing: "read value") }
        return v == 1
    }

    func setValue(_ active: Bool) throws {
        guard gpiod_line_set_value(line, active ? 1 : 0) == 0 else {
            throw hardwareError(errno: errno, device: description, doing: "set value")
        }
    }

    func readEvents() throws -> [GPIOEdgeEvent] {
        guard let fd = eventFileDescriptor else { return [] }
        var buffer = [gpiod_line_event](repeating: gpiod_line_event(), count: 16)
        let n = buffer.withUnsafeMutableBufferPointer { b in
            gpiod_line_event_read_fd_multiple(fd, b.baseAddress, UInt32(b.count))
        }
        guard n >= 0 else {
            let e = errno
            if e == EAGAIN { return [] }
            throw hardwareError(errno: e, device: description, doing: "read edge events")
        }
        return buffer.prefix(Int(n)).map { event in
            // Linux ≥ 5.7 stamps v1 events on CLOCK_MONOTONIC, older kernels on CLOCK_REALTIME;
            // KernelTimestamp tells them apart.
            GPIOEdgeEvent(edge: event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE) ? .rising : .falling,
                          timestamp: KernelTimestamp.monotonic(seconds: event.ts.tv_sec, nanoseconds: event.ts.tv_nsec))
        }
    }

    func release() {
        gpiod_line_release(line)
        gpiod_chip_close(chip)
    }
}
#endif
