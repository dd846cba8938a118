#if canImport(Glibc)
import Glibc
#endif
import HAL
import Locking
import Synchronization

/// The one TCP connection to `evse-sim` and everything learned through it.
///
/// Requests are synchronous: the caller writes `ID VERB ARGS…` and waits (bounded) for the
/// reply, which the reader thread routes by ID. The reader also applies pushed lines (`! edge`,
/// `! adc`, `! key`) to caches and queues, so reading an input level or an ADC costs no round
/// trip. When the link drops, waiting calls fail with `disconnected`; the next call reconnects
/// (at most once per `reconnectInterval`), says hello again and re-opens every line, channel
/// and key source it had, restoring outputs to their last written levels and the PWM to its
/// last setting, so a restarted simulator picks up where the firmware is.
final class SimConnection: @unchecked Sendable {
    /// How an opened primitive is re-opened after a reconnect.
    enum Registration: Equatable {
        case gpioInput(edges: GPIOEdgeDetection)   // physical edges asked of the simulator
        case gpioOutput(level: Bool)               // last written physical level
        case pwm(setArguments: [String]?)          // last `pwm.set` arguments after the name
        case led(lastCommand: [String]?)           // last `led.set` / `led.pattern` request
        case adc
        case keys
    }

    struct State {
        var fd: Int32 = -1
        /// Connected, hello answered and everything re-opened: other callers may use the link.
        var ready = false
        var generation: UInt64 = 0
        var nextID: UInt64 = 1
        var pending: [UInt64: ReplySlot] = [:]
        var lastAttempt: UInt64?
        var shutDown = false
        var connectorCount: Int?
        var registrations: [String: Registration] = [:]
        var order: [String] = []
        /// Physical levels of opened lines (inputs: from edges; outputs: last written).
        var levels: [String: Bool] = [:]
        var millivolts: [String: Double] = [:]
        /// Every physical edge of input lines opened with edge detection, oldest first.
        var edges: [String: [GPIOEdgeEvent]] = [:]
        var droppedEdges: [String: Int] = [:]
        var keys: [String: [KeyEvent]] = [:]
        var malformedLines = 0
    }

    static let queueLimit = 8_192

    let host: String
    let port: UInt16
    let requestTimeout: EVSEDuration
    let reconnectInterval: EVSEDuration
    let firmwareName: String
    let state = Mutex(State())
    /// Told of every pushed input change and of a lost link (the station loop's wake-up).
    let inputChanges = InputChangeRelay()
    /// Serialises socket writes and the close of a socket, so a write never reaches a reused
    /// descriptor number.
    private let writeLock = Mutex(())
    /// One connect attempt at a time.
    private let connectLock = Mutex(())

    var endpoint: String { "simulator \(host):\(port)" }

    init(host: String, port: UInt16, requestTimeout: EVSEDuration, reconnectInterval: EVSEDuration, firmwareName: String) {
        self.host = host
        self.port = port
        self.requestTimeout = requestTimeout
        self.reconnectInterval = reconnectInterval
        self.firmwareName = firmwareName
    }

    deinit { shutdownSocket() }

    // MARK: Requests

    /// Sends a request (connecting first if needed) and returns the values after `ok`.
    /// `device` names the primitive in errors.
    @discardableResult
    func request(_ words: [String], device: String) throws -> [String] {
        try ensureConnected()
        return try send(words, device: device)
    }

    /// Sends on the current connection without trying to reconnect.
    @discardableResult
    func send(_ words: [String], device: String) throws -> [String] {
        let slot = ReplySlot()
        let (id, generation) = try state.locked { s -> (UInt64, UInt64) in
            guard s.fd >= 0 else { throw notConnected() }
            let id = s.nextID
            s.nextID += 1
            s.pending[id] = slot
            return (id, s.generation)
        }
        let line = "\(id) \(words.joined(separator: " "))\n"
        let written = writeLock.locked { _ -> Bool in
            let fd = state.locked { $0.generation == generation ? $0.fd : -1 }
            guard fd >= 0 else { return false }
            return Self.writeAll(fd: fd, Array(line.utf8))
        }
        guard written else {
            state.locked { _ = $0.pending.removeValue(forKey: id) }
            connectionLost(generation: generation, closing: nil)
            throw HardwareError(.disconnected, device: device, "\(endpoint): connection lost while sending \"\(words.joined(separator: " "))\"")
        }
        guard let outcome = slot.wait(timeout: requestTimeout) else {
            state.locked { _ = $0.pending.removeValue(forKey: id) }
            throw HardwareError(.timeout, device: device, "\(endpoint): no reply to \"\(words.joined(separator: " "))\" within \(requestTimeout)")
        }
        switch outcome {
        case let .ok(values):
            return values
        case let .err(message):
            throw Self.refusal(words: words, device: device, message: message)
        case let .lost(reason):
            throw HardwareError(.disconnected, device: device, "\(endpoint): \(reason)")
        }
    }

    /// The simulator refused a request. An open of a name it does not know is a missing
    /// device; anything else is a value it cannot take.
    static func refusal(words: [String], device: String, message: String) -> HardwareError {
        let isOpen = words.first?.hasSuffix(".open") ?? false
        let unknown = message.lowercased().contains("unknown") || message.lowercased().contains("no such")
        return HardwareError(isOpen && unknown ? .deviceMissing : .invalidArgument, device: device,
                             "simulator refused \"\(words.joined(separator: " "))\": \(message)")
    }

    private func notConnected() -> HardwareError {
        HardwareError(.disconnected, device: "simulator link", "not connected to \(endpoint) (is evse-sim running?)")
    }

    private static func writeAll(fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { b in
                Glibc.send(fd, b.baseAddress.map { $0 + offset }, b.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    // MARK: Connection

    var isConnected: Bool { state.locked { $0.ready } }

    /// Connects, says hello and re-opens what was open, unless already connected. Attempts are
    /// spaced by `reconnectInterval`; in between, calls fail fast with `disconnected`.
    func ensureConnected() throws {
        if state.locked({ $0.ready }) { return }
        try connectLock.locked { _ in
            let (ready, shutDown, lastAttempt) = state.locked { ($0.ready, $0.shutDown, $0.lastAttempt) }
            if ready { return }
            if shutDown { throw HardwareError(.disconnected, device: "simulator link", "\(endpoint): backend was closed") }
            let now = monotonicMicroseconds()
            if let last = lastAttempt, Int64(now - last) < reconnectInterval.microseconds {
                throw notConnected()
            }
            state.locked { $0.lastAttempt = now }
            let fd = try openSocket()
            let generation = state.locked { s -> UInt64 in
                s.generation += 1
                s.fd = fd
                return s.generation
            }
            do {
                // The reader holds the connection weakly: dropping the backend closes the socket.
                let reference = WeakReference(self)
                try startDetachedThread(name: "sim-link") {
                    SimConnection.readLoop(connection: reference, fd: fd, generation: generation)
                }
            } catch {
                state.locked { $0.fd = -1 }
                Glibc.close(fd)
                throw error
            }
            do {
                try hello()
            } catch {
                connectionLost(generation: generation, closing: nil)
                throw error
            }
            // A registration the restarted simulator refuses is reported to this caller; the
            // link itself is good, so other callers go ahead.
            defer { state.locked { if $0.generation == generation && $0.fd >= 0 { $0.ready = true } } }
            try reopenAll()
        }
    }

    private func hello() throws {
        let values = try send(["hello", firmwareName, "1"], device: "simulator link")
        guard values.count >= 2, values[1] == "1" else {
            throw HardwareError(.protocolError, device: "simulator link",
                                "\(endpoint) answered hello with \"\(values.joined(separator: " "))\"; this firmware speaks protocol 1")
        }
        let count = values.count >= 3 ? Int(values[2]) : nil
        state.locked { $0.connectorCount = count }
    }

    /// After a reconnect: open everything again, in the order it was first opened. Every
    /// registration is tried; the first failure is reported.
    private func reopenAll() throws {
        let (order, registrations) = state.locked { ($0.order, $0.registrations) }
        var firstError: Error?
        for name in order {
            guard let registration = registrations[name] else { continue }
            do {
                try open(name, registration)
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
    }

    /// Sends the open request(s) for `registration` on the current connection and records
    /// it; its reply seeds the caches.
    func open(_ name: String, _ registration: Registration) throws {
        switch registration {
        case let .gpioInput(edges):
            let values = try send(["gpio.open", name, "in", edges.rawValue], device: name)
            let level = try Self.level(values.first, device: name)
            state.locked { s in
                s.levels[name] = level
                if edges != .none, s.edges[name] == nil { s.edges[name] = [] }
            }
        case let .gpioOutput(level):
            try send(["gpio.open", name, "out", level ? "1" : "0"], device: name)
            state.locked { $0.levels[name] = level }
        case let .pwm(arguments):
            try send(["pwm.open", name], device: name)
            if let arguments { try send(["pwm.set", name] + arguments, device: name) }
        case let .led(command):
            try send(["led.open", name], device: name)
            if let command { try send(command, device: name) }
        case .adc:
            let values = try send(["adc.open", name], device: name)
            guard let text = values.first, let mv = Double(text), mv.isFinite else {
                throw HardwareError(.protocolError, device: name, "adc.open answered \"\(values.joined(separator: " "))\", expected millivolts")
            }
            state.locked { $0.millivolts[name] = mv }
        case .keys:
            try send(["keys.open", name], device: name)
            state.locked { s in if s.keys[name] == nil { s.keys[name] = [] } }
        }
        register(name, registration)
    }

    func register(_ name: String, _ registration: Registration) {
        state.locked { s in
            if s.registrations.updateValue(registration, forKey: name) == nil { s.order.append(name) }
        }
    }

    func unregister(_ name: String) {
        state.locked { s in
            s.registrations.removeValue(forKey: name)
            s.order.removeAll { $0 == name }
            s.edges.removeValue(forKey: name)
            s.keys.removeValue(forKey: name)
        }
    }

    static func level(_ text: String?, device: String) throws -> Bool {
        switch text {
        case "1": return true
        case "0": return false
        default: throw HardwareError(.protocolError, device: device, "expected level 0 or 1, got \"\(text ?? "")\"")
        }
    }

    private func openSocket() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw HardwareError(.disconnected, device: "simulator link",
                                "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastErrno: Int32 = ECONNREFUSED
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if fd < 0 { lastErrno = errno; continue }
            if connectBounded(fd: fd, address: info.pointee.ai_addr, length: info.pointee.ai_addrlen) {
                var one: Int32 = 1
                // Small request lines must not wait for Nagle: the pilot→contactor path crosses here.
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                var tv = timeval(tv_sec: Int(requestTimeout.microseconds / 1_000_000),
                                 tv_usec: Int(requestTimeout.microseconds % 1_000_000))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                return fd
            }
            lastErrno = errno
            Glibc.close(fd)
        }
        throw HardwareError(.disconnected, device: "simulator link",
                            "cannot connect to \(endpoint): \(String(cString: strerror(lastErrno))) (is evse-sim running?)")
    }

    /// connect(2) bounded by the request timeout (a non-blocking connect and poll).
    private func connectBounded(fd: Int32, address: UnsafeMutablePointer<sockaddr>?, length: socklen_t) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if connect(fd, address, length) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let timeoutMs = Int32(clamping: max(1, requestTimeout.microseconds / 1_000))
        guard poll(&p, 1, timeoutMs) == 1 else {
            errno = ETIMEDOUT
            return false
        }
        var soError: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
        if soError != 0 { errno = soError; return false }
        return true
    }

    /// Marks the connection of `generation` as gone, fails its waiting requests and, when
    /// `closing` is given (the reader's own descriptor), closes it.
    func connectionLost(generation: UInt64, closing fd: Int32?) {
        let pending = writeLock.locked { _ -> [ReplySlot] in
            let slots = state.locked { s -> [ReplySlot] in
                guard s.generation == generation else { return [] }
                if s.fd >= 0 { shutdown(s.fd, Int32(SHUT_RDWR)) }
                s.fd = -1
                s.ready = false
                defer { s.pending.removeAll() }
                return Array(s.pending.values)
            }
            if let fd { Glibc.close(fd) }
            return slots
        }
        for slot in pending { slot.fill(.lost("connection lost")) }
        // The loop must look now: its next read finds the link down and raises the fault.
        inputChanges.inputChanged()
    }

    /// Drops the connection for good (no reconnects).
    func close() {
        state.locked { $0.shutDown = true }
        shutdownSocket()
    }

    private func shutdownSocket() {
        writeLock.locked { _ in
            state.locked { s in
                if s.fd >= 0 { shutdown(s.fd, Int32(SHUT_RDWR)) }
            }
        }
    }

    // MARK: Reader

    private final class WeakReference: Sendable {
        weak let value: SimConnection?
        init(_ value: SimConnection) { self.value = value }
    }

    private static func readLoop(connection reference: WeakReference, fd: Int32, generation: UInt64) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while true {
            let n = chunk.withUnsafeMutableBytes { b in Glibc.read(fd, b.baseAddress, b.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            buffer.append(contentsOf: chunk[0..<n])
            guard let newline = buffer.lastIndex(of: UInt8(ascii: "\n")) else { continue }
            guard let conn = reference.value else { break }
            for line in buffer[...newline].split(separator: UInt8(ascii: "\n")) {
                var text = String(decoding: line, as: UTF8.self)
                if text.hasSuffix("\r") { text.removeLast() }
                conn.handle(text)
            }
            buffer.removeSubrange(...newline)
        }
        if let conn = reference.value {
            conn.connectionLost(generation: generation, closing: fd)
        } else {
            Glibc.close(fd)
        }
    }

    func handle(_ line: String) {
        guard let incoming = SimIncoming.parse(line) else {
            state.locked { $0.malformedLines += 1 }
            return
        }
        switch incoming {
        case let .ok(id, values):
            state.locked { $0.pending.removeValue(forKey: id) }?.fill(.ok(values))
        case let .err(id, message):
            state.locked { $0.pending.removeValue(forKey: id) }?.fill(.err(message))
        case let .edge(name, rising, timestamp):
            let known = state.locked { s -> Bool in
                guard s.registrations[name] != nil else { return false }
                s.levels[name] = rising
                guard s.edges[name] != nil else { return true }
                s.edges[name, default: []].append(GPIOEdgeEvent(edge: rising ? .rising : .falling, timestamp: timestamp))
                if let count = s.edges[name]?.count, count > Self.queueLimit {
                    s.edges[name]?.removeFirst(count - Self.queueLimit)
                    s.droppedEdges[name, default: 0] += count - Self.queueLimit
                }
                return true
            }
            if known { inputChanges.inputChanged() }
        case let .adc(name, millivolts, _):
            let changed = state.locked { s -> Bool in
                guard s.registrations[name] != nil else { return false }
                defer { s.millivolts[name] = millivolts }
                return s.millivolts[name] != millivolts
            }
            if changed { inputChanges.inputChanged() }
        case let .key(name, code, pressed, timestamp):
            let known = state.locked { s -> Bool in
                guard s.keys[name] != nil else { return false }
                s.keys[name, default: []].append(KeyEvent(code: code, pressed: pressed, timestamp: timestamp))
                if let count = s.keys[name]?.count, count > Self.queueLimit {
                    s.keys[name]?.removeFirst(count - Self.queueLimit)
                }
                return true
            }
            if known { inputChanges.inputChanged() }
        case .otherPush:
            break
        }
    }
}
