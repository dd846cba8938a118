#if canImport(Glibc)
import Glibc
#endif
import HAL
import Locking
import Synchronization

/// One device on `/dev/i2c-N`: the bus node is opened once and bound to the 7-bit address
/// with I2C_SLAVE, after which plain write(2) calls become I2C write transfers.
final class LinuxI2CDevice: I2CDevice {
    /// From <linux/i2c-dev.h>.
    static let I2C_SLAVE: UInt = 0x0703

    let bus: String
    let address: UInt8
    private let path: String
    private let fd: Mutex<Int32>

    /// `bus` is "1", "i2c-1" or a path such as "/dev/i2c-1".
    init(bus: String, address: UInt8, devRoot: String) throws {
        self.bus = bus
        self.address = address
        let path = Self.devicePath(bus: bus, devRoot: devRoot)
        self.path = path
        guard address <= 0x7f else {
            throw HardwareError(.invalidArgument, device: path, "I2C address 0x\(String(address, radix: 16)) is not a 7-bit address")
        }
        let f = retryingEINTR { open(path, O_RDWR | O_CLOEXEC) }
        guard f >= 0 else {
            let e = errno
            if e == EACCES || e == EPERM {
                throw HardwareError(.permissionDenied, device: path, "permission denied (add the user to the i2c group)")
            }
            if e == ENOENT {
                throw HardwareError(.deviceMissing, device: path, "no such I2C bus (enable it, e.g. dtparam=i2c_arm=on, and load i2c-dev)")
            }
            throw hardwareError(errno: e, device: path, doing: "open")
        }
        guard ioctl(f, Self.I2C_SLAVE, CInt(address)) == 0 else {
            let e = errno
            close(f)
            throw hardwareError(errno: e, device: "\(path) address 0x\(String(address, radix: 16))", doing: "select device (I2C_SLAVE)")
        }
        fd = Mutex(f)
    }

    static func devicePath(bus: String, devRoot: String) -> String {
        if bus.hasPrefix("/") { return bus }
        if bus.hasPrefix("i2c-") { return "\(devRoot)/\(bus)" }
        return "\(devRoot)/i2c-\(bus)"
    }

    func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try fd.locked { f in
            guard f >= 0 else { throw HardwareError(.ioFailed, device: path, "device closed") }
            let n = bytes.withUnsafeBytes { b in retryingEINTR { Glibc.write(f, b.baseAddress, b.count) } }
            if n < 0 {
                let e = errno
                if e == EREMOTEIO || e == ENXIO {
                    throw HardwareError(.deviceMissing, device: "\(path) address 0x\(String(address, radix: 16))",
                                        "no device acknowledges this address (wiring, address jumpers?)")
                }
                throw hardwareError(errno: e, device: path, doing: "write")
            }
            if n != bytes.count {
                throw HardwareError(.ioFailed, device: path, "short write: \(n) of \(bytes.count) bytes")
            }
        }
    }

    deinit {
        fd.locked { f in
            if f >= 0 { close(f) }
        }
    }
}
