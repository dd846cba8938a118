import Foundation

/// A stand-in for `evse-sim`'s HAL socket: listens on 127.0.0.1, serves one client at a time,
/// records every request line and answers through `respond` (nil: never answer; `.drop`:
/// close the connection instead). Tests push `!` lines with `push`.
final class FakeSimulator: @unchecked Sendable {
    enum Answer {
        case reply(String)   // the text after "ID "
        case silence
        case drop
    }

    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var client: Int32 = -1
    private var received: [[String]] = []   // per connection: request lines without the ID
    private var stopped = false
    private let acceptLoopEnded = DispatchSemaphore(value: 0)
    private let respond: @Sendable ([String]) -> Answer

    /// `port` 0 picks a free one.
    init(port: UInt16 = 0, respond: @escaping @Sendable ([String]) -> Answer = FakeSimulator.standard) throws {
        self.respond = respond
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 4) == 0 else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// What a healthy simulator answers.
    static func standard(_ words: [String]) -> Answer {
        switch words.first {
        case "hello": return .reply("ok evse-sim 1 2")
        case "gpio.open": return .reply(words.count >= 4 && words[2] == "out" ? "ok \(words[3])" : "ok 0")
        case "gpio.get": return .reply("ok 0")
        case "adc.open", "adc.get": return .reply("ok 12000")
        default: return .reply("ok")
        }
    }

    /// Request lines (without IDs) of connection `index` (0 = first), e.g. ["gpio.set x 1"].
    func requests(connection index: Int = 0) -> [String] {
        lock.withLock { index < received.count ? received[index] : [] }
    }

    var connectionCount: Int { lock.withLock { received.count } }

    func push(_ line: String) {
        let fd = lock.withLock { client }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Closes the listener and the client: the simulator process is gone. Only the accept
    /// thread closes the listener, after it stopped using it, so no other test's descriptor
    /// with a reused number is ever touched.
    func stop() {
        let first = lock.withLock { () -> Bool in
            guard !stopped else { return false }
            stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
            if client >= 0 { shutdown(client, Int32(SHUT_RDWR)) }
            return true
        }
        if first { acceptLoopEnded.wait() }
    }

    deinit { stop() }

    private func acceptLoop() {
        defer {
            close(listener)
            acceptLoopEnded.signal()
        }
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            let index: Int? = lock.withLock {
                if stopped { return nil }
                client = fd
                received.append([])
                return received.count - 1
            }
            guard let index else { close(fd); return }
            serve(fd: fd, index: index)
        }
    }

    private func serve(fd: Int32, index: Int) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        reading: while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            buffer.append(contentsOf: chunk[0..<n])
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                var words = line.split(separator: " ").map(String.init)
                guard !words.isEmpty else { continue }
                let id = words.removeFirst()
                lock.withLock { received[index].append(words.joined(separator: " ")) }
                switch respond(words) {
                case let .reply(text):
                    let bytes = Array("\(id) \(text)\n".utf8)
                    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                case .silence:
                    break
                case .drop:
                    break reading
                }
            }
        }
        lock.withLock { if client == fd { client = -1 } }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}
