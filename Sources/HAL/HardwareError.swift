/// What a HAL backend reports when the hardware cannot be reached. The message is meant for
/// the person at the board: it names the device and what to check.
public struct HardwareError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case deviceMissing       // no such /dev node, chip, line name, sysfs file
        case permissionDenied    // EACCES: user not in gpio/dialout/i2c group
        case busy                // line already requested by another consumer
        case timeout             // a Modbus request or simulator request got no answer
        case ioFailed            // any other read/write failure
        case invalidArgument     // a value the hardware cannot take (duty out of range, …)
        case disconnected        // link dropped (simulator socket, Modbus TCP)
        case protocolError       // the peer answered something that makes no sense
    }

    public var kind: Kind
    /// The device or primitive, e.g. "gpiochip0 line 17", "/sys/class/pwm/pwmchip0/pwm1".
    public var device: String
    public var detail: String

    public init(_ kind: Kind, device: String, _ detail: String) {
        self.kind = kind
        self.device = device
        self.detail = detail
    }

    public var description: String { "\(device): \(detail)" }
}
