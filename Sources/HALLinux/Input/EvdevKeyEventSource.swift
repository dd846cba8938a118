#if canImport(Glibc)
import Glibc
#endif
import HAL
import Locking
import Synchronization

/// Key events of an input device (`/dev/input/eventN` or a stable `/dev/input/by-id/…` link),
/// e.g. a USB RFID reader that types the card number as a keyboard.
///
/// The device is opened non-blocking and read on every drain, so nothing waits. The kernel
/// buffers events between drains (its evdev client buffer holds a few hundred), ample for the
/// ~20 key events of one card at a poll every few milliseconds. Timestamps are switched to
/// CLOCK_MONOTONIC (EVIOCSCLOCKID; evdev's default is CLOCK_REALTIME); the device is grabbed
/// (EVIOCGRAB) so the reader's keystrokes don't also reach a console login.
final class EvdevKeyEventSource: KeyEventSource {
    /// _IOW('E', 0xa0, int) and _IOW('E', 0x90, int) from <linux/input.h>.
    static let EVIOCSCLOCKID: UInt = 0x4004_45A0
    static let EVIOCGRAB: UInt = 0x4004_4590

    let name: String
    private let fd: Mutex<Int32>

    init(device: String, devRoot: String) throws {
        let name = device.hasPrefix("/") ? device : "\(devRoot)/input/\(device)"
        self.name = name
        let f = retryingEINTR { open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
        guard f >= 0 else {
            let e = errno
            if e == EACCES || e == EPERM {
                throw HardwareError(.permissionDenied, device: name, "permission denied (add the user to the input group)")
            }
            throw hardwareError(errno: e, device: name, doing: "open input device")
        }
        var clock = CInt(CLOCK_MONOTONIC)
        // Failure leaves realtime stamps, which KernelTimestamp moves onto the monotonic clock.
        _ = ioctl(f, Self.EVIOCSCLOCKID, &clock)
        _ = ioctl(f, Self.EVIOCGRAB, CInt(1))
        fd = Mutex(f)
    }

    func drainKeyEvents() throws -> [KeyEvent] {
        try fd.locked { f in
            guard f >= 0 else { throw HardwareError(.disconnected, device: name, "input device closed") }
            var events: [KeyEvent] = []
            var buffer = [UInt8](repeating: 0, count: EvdevEvent.size * 64)
            while true {
                let n = buffer.withUnsafeMutableBytes { b in retryingEINTR { read(f, b.baseAddress, b.count) } }
                if n < 0 {
                    let e = errno
                    if e == EAGAIN || e == EWOULDBLOCK { break }
                    if e == ENODEV {
                        close(f)
                        f = -1
                        throw HardwareError(.disconnected, device: name, "input device unplugged")
                    }
                    throw hardwareError(errno: e, device: name, doing: "read")
                }
                if n == 0 { break }
                for raw in EvdevEvent.decode(Array(buffer[0..<n])) {
                    guard let key = raw.keyEvent else { continue }
                    let stamp = KernelTimestamp.monotonic(seconds: raw.seconds, nanoseconds: raw.microseconds * 1_000)
                    events.append(KeyEvent(code: key.code, pressed: key.pressed, timestamp: stamp))
                }
                if n < buffer.count { break }
            }
            return events
        }
    }

    deinit {
        fd.locked { f in
            if f >= 0 { close(f) }
        }
    }
}
