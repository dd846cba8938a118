#if canImport(Glibc)
import Glibc
#endif
import HAL

/// Turns an errno from a device node or sysfs attribute into the error a person at the board
/// can act on.
func hardwareError(errno code: Int32, device: String, doing action: String) -> HardwareError {
    let reason = String(cString: strerror(code))
    switch code {
    case ENOENT, ENODEV, ENXIO:
        return HardwareError(.deviceMissing, device: device, "\(action): \(reason) (is the driver loaded / the overlay enabled?)")
    case EACCES, EPERM:
        return HardwareError(.permissionDenied, device: device, "\(action): \(reason) (add the user to the owning group, e.g. gpio, i2c, input, or add a udev rule)")
    case EBUSY:
        return HardwareError(.busy, device: device, "\(action): \(reason) (another driver or process holds it)")
    case EINVAL, ERANGE:
        return HardwareError(.invalidArgument, device: device, "\(action): the kernel rejected the value (\(reason))")
    case ETIMEDOUT:
        return HardwareError(.timeout, device: device, "\(action): \(reason)")
    default:
        return HardwareError(.ioFailed, device: device, "\(action): \(reason) (errno \(code))")
    }
}

/// Retries a system call interrupted by a signal.
@inline(__always)
func retryingEINTR<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
        let r = call()
        if r == -1 && errno == EINTR { continue }
        return r
    }
}
