#if canImport(Glibc)
import Glibc
#endif
import HAL

/// The backend for real hardware: GPIO through libgpiod, PWM and LED class devices through
/// sysfs, ADCs through IIO sysfs, I2C through /dev/i2c-N, key events through evdev, Modbus
/// through libmodbus.
///
/// `sysfsRoot` and `devRoot` are "/sys" and "/dev" on a board; tests point them at a
/// temporary tree. GPIO lines found by name are searched among the chips in /dev regardless.
public final class LinuxBackend: HardwareBackend, InputChangeSignalling {
    public let backendName = "linux"
    public let sysfsRoot: String
    public let devRoot: String
    /// How long `openPWM` waits for an exported channel to appear.
    public let pwmExportTimeout: EVSEDuration

    let io: SysfsIO
    let gpio: any GPIOChipAccess
    let inputChanges = InputChangeRelay()

    /// GPIO lines opened with edge detection signal each batch of kernel edge events (their
    /// `gpio-edges` reader threads). IIO ADCs and lines without edge detection do not: the loop
    /// samples them at the board's `pilot.sample_rate_hz`.
    public func signalInputChanges(to wake: LoopWakeUp) { inputChanges.connect(wake) }
    public var signalsEveryInputChange: Bool { false }

    public convenience init(sysfsRoot: String = "/sys", devRoot: String = "/dev",
                            pwmExportTimeout: EVSEDuration = .milliseconds(2_000)) {
        self.init(sysfsRoot: sysfsRoot, devRoot: devRoot, pwmExportTimeout: pwmExportTimeout, io: SysfsIO())
    }

    /// For tests: `io` may trace every sysfs write.
    init(sysfsRoot: String, devRoot: String, pwmExportTimeout: EVSEDuration, io: SysfsIO) {
        self.sysfsRoot = Self.trimmingTrailingSlash(sysfsRoot)
        self.devRoot = Self.trimmingTrailingSlash(devRoot)
        self.pwmExportTimeout = pwmExportTimeout
        self.io = io
        #if SWIFTEVSE_GPIOD_V2
        gpio = GPIOChipAccessV2(devRoot: self.devRoot)
        #else
        gpio = GPIOChipAccessV1(devRoot: self.devRoot)
        #endif
    }

    private static func trimmingTrailingSlash(_ p: String) -> String {
        p.count > 1 && p.hasSuffix("/") ? String(p.dropLast()) : p
    }

    /// Which libgpiod this backend was built against, e.g. "libgpiod 1.6.3 (v1 API)".
    public var gpioAPI: String { gpio.apiDescription }

    public func openGPIOLine(_ address: GPIOLineAddress, config: GPIOLineConfig) throws -> any GPIOLine {
        let requested = try gpio.request(address, config: config)
        let isOutput: Bool
        if case .output = config.direction { isOutput = true } else { isOutput = false }
        return try LinuxGPIOLine(address: address, requested: requested, isOutput: isOutput, inputChanges: inputChanges)
    }

    public func openPWM(_ address: PWMAddress) throws -> any PWMOutput {
        switch address {
        case let .sysfs(chip, channel):
            return try SysfsPWMOutput(sysfsRoot: sysfsRoot, chip: chip, channel: channel, io: io,
                                      exportTimeout: pwmExportTimeout)
        case .named:
            throw HardwareError(.invalidArgument, device: address.description,
                                "named PWM channels exist only on the sim and fake backends; give pwmchip and channel")
        }
    }

    public func openLED(_ address: LEDAddress) throws -> any KernelLED {
        switch address {
        case let .sysfs(name):
            return try SysfsKernelLED(sysfsRoot: sysfsRoot, name: name, io: io)
        case .named:
            throw HardwareError(.invalidArgument, device: address.description,
                                "named LEDs exist only on the sim and fake backends; give the name under /sys/class/leds")
        }
    }

    public func openADC(_ address: ADCAddress) throws -> any ADCInput {
        switch address {
        case let .iio(device, channel):
            return try IIOADCInput(sysfsRoot: sysfsRoot, device: device, channel: channel, io: io)
        case .named:
            throw HardwareError(.invalidArgument, device: address.description,
                                "named ADC channels exist only on the sim and fake backends; give the IIO device and channel")
        }
    }

    public func openModbusBus(_ config: ModbusBusConfig) throws -> any ModbusBus {
        try makeModbusBus(config)
    }

    public func openI2CDevice(bus: String, address: UInt8) throws -> any I2CDevice {
        try LinuxI2CDevice(bus: bus, address: address, devRoot: devRoot)
    }

    public func openKeyEventSource(device: String) throws -> any KeyEventSource {
        try EvdevKeyEventSource(device: device, devRoot: devRoot)
    }
}
