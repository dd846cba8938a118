import HAL
@testable import HALLinux
import Testing

/// Real GPIO lines need a gpio-sim/gpio-mockup chip, which this test machine's kernel does not
/// offer; these tests cover what happens without the hardware.
@Suite struct GPIOAndI2CTests {
    @Test func missingChipNamesTheDevicePath() throws {
        let error = #expect(throws: HardwareError.self) {
            _ = try LinuxBackend().openGPIOLine(.chipOffset(chip: "gpiochip99", offset: 4),
                                                config: GPIOLineConfig(direction: .input))
        }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.device == "/dev/gpiochip99")
    }

    @Test func missingChipByPathNamesThatPath() throws {
        let error = #expect(throws: HardwareError.self) {
            _ = try LinuxBackend().openGPIOLine(.chipOffset(chip: "/dev/gpiochip42", offset: 0),
                                                config: GPIOLineConfig(direction: .output(initial: false)))
        }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.device == "/dev/gpiochip42")
    }

    @Test func unknownLineNameIsMissing() throws {
        let error = #expect(throws: HardwareError.self) {
            _ = try LinuxBackend().openGPIOLine(.name("SWIFTEVSE_NO_SUCH_LINE"), config: GPIOLineConfig(direction: .input))
        }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.device == "line \"SWIFTEVSE_NO_SUCH_LINE\"")
    }

    @Test func reportsTheLibgpiodItWasBuiltAgainst() {
        #expect(LinuxBackend().gpioAPI.hasPrefix("libgpiod 1."))
        #expect(LinuxBackend().gpioAPI.contains("v1 API"))
    }

    @Test func i2cBusNamesResolveUnderDev() {
        #expect(LinuxI2CDevice.devicePath(bus: "1", devRoot: "/dev") == "/dev/i2c-1")
        #expect(LinuxI2CDevice.devicePath(bus: "i2c-3", devRoot: "/dev") == "/dev/i2c-3")
        #expect(LinuxI2CDevice.devicePath(bus: "/dev/i2c-7", devRoot: "/x") == "/dev/i2c-7")
    }

    @Test func missingI2CBusNamesThePath() throws {
        let t = try TempTree()
        let error = #expect(throws: HardwareError.self) {
            _ = try LinuxBackend(sysfsRoot: t.root, devRoot: t.path("dev")).openI2CDevice(bus: "1", address: 0x27)
        }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.device == t.path("dev/i2c-1"))
    }

    @Test func eightBitI2CAddressIsRejected() throws {
        // 0x9c is the 8-bit write address of 0x4e; Linux wants the 7-bit one.
        let error = #expect(throws: HardwareError.self) {
            _ = try LinuxBackend().openI2CDevice(bus: "1", address: 0x9c)
        }
        #expect(error?.kind == .invalidArgument)
    }
}
