import HAL
@testable import HALLinux
import Testing

@Suite struct IIOADCTests {
    func backend(_ t: TempTree) -> LinuxBackend { LinuxBackend(sysfsRoot: t.root, devRoot: t.path("dev")) }

    /// An ADS1115-like device: iio:device0 named "ads1115", another device before it.
    func tree() throws -> TempTree {
        let t = try TempTree()
        try t.write("bus/iio/devices/iio:device1/name", "ads1115\n")
        try t.write("bus/iio/devices/iio:device1/in_voltage0_raw", "13200\n")
        try t.write("bus/iio/devices/iio:device1/in_voltage1_raw", "-2000\n")
        try t.write("bus/iio/devices/iio:device1/in_voltage_scale", "0.125000000\n")
        try t.write("bus/iio/devices/iio:device1/in_voltage1_scale", "0.0625\n")
        try t.write("bus/iio/devices/iio:device0/name", "cpu_thermal\n")
        try t.write("bus/iio/devices/iio:device0/in_temp0_raw", "41000\n")
        return t
    }

    @Test func sharedScaleAppliesWhenTheChannelHasNone() throws {
        let t = try tree()
        let adc = try backend(t).openADC(.iio(device: "iio:device1", channel: "voltage0"))
        #expect(try adc.readVolts() == 13200 * 0.125 / 1000)
    }

    @Test func channelScaleWinsOverTheSharedOne() throws {
        let t = try tree()
        let adc = try backend(t).openADC(.iio(device: "ads1115", channel: "voltage1"))
        #expect(try adc.readVolts() == -2000 * 0.0625 / 1000)
    }

    @Test func offsetIsAddedBeforeScaling() throws {
        let t = try tree()
        try t.write("bus/iio/devices/iio:device1/in_voltage0_offset", "-200\n")
        let adc = try backend(t).openADC(.iio(device: "ads1115", channel: "voltage0"))
        #expect(try adc.readVolts() == (13200 - 200) * 0.125 / 1000)
    }

    @Test func noScaleMeansMillivoltsAsIs() throws {
        let t = try tree()
        let adc = try backend(t).openADC(.iio(device: "cpu_thermal", channel: "temp0"))
        #expect(try adc.readVolts() == 41.0)
    }

    @Test func everyReadSeesTheCurrentSampleAndScale() throws {
        let t = try tree()
        let adc = try backend(t).openADC(.iio(device: "ads1115", channel: "voltage0"))
        try t.write("bus/iio/devices/iio:device1/in_voltage0_raw", "8000\n")
        try t.write("bus/iio/devices/iio:device1/in_voltage_scale", "0.25\n")
        #expect(try adc.readVolts() == 2.0)
    }

    @Test func unknownDeviceNameListsWhatExists() throws {
        let t = try tree()
        let error = #expect(throws: HardwareError.self) {
            _ = try backend(t).openADC(.iio(device: "mcp3008", channel: "voltage0"))
        }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.detail.contains("mcp3008") == true)
        #expect(error?.detail.contains("iio:device1=ads1115") == true)
    }

    @Test func missingDeviceNumberNamesThePath() throws {
        let t = try tree()
        let error = #expect(throws: HardwareError.self) {
            _ = try backend(t).openADC(.iio(device: "iio:device7", channel: "voltage0"))
        }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.device == t.path("bus/iio/devices/iio:device7"))
    }

    @Test func missingChannelListsTheDevicesChannels() throws {
        let t = try tree()
        let error = #expect(throws: HardwareError.self) {
            _ = try backend(t).openADC(.iio(device: "ads1115", channel: "voltage3"))
        }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.device == t.path("bus/iio/devices/iio:device1/in_voltage3_raw"))
        #expect(error?.detail.contains("voltage0, voltage1") == true)
    }

    @Test func garbageInTheRawFileIsAProtocolError() throws {
        let t = try tree()
        let adc = try backend(t).openADC(.iio(device: "ads1115", channel: "voltage0"))
        try t.write("bus/iio/devices/iio:device1/in_voltage0_raw", "busy\n")
        let error = #expect(throws: HardwareError.self) { _ = try adc.readVolts() }
        #expect(error?.kind == .protocolError)
        #expect(error?.detail.contains("busy") == true)
    }

    @Test func rawFileVanishingIsDeviceMissing() throws {
        let t = try tree()
        let adc = try backend(t).openADC(.iio(device: "ads1115", channel: "voltage0"))
        try t.remove("bus/iio/devices/iio:device1/in_voltage0_raw")
        let error = #expect(throws: HardwareError.self) { _ = try adc.readVolts() }
        #expect(error?.kind == .deviceMissing)
    }

    @Test func channelTypeStripsIndices() {
        #expect(IIOADCInput.channelType("voltage0") == "voltage")
        #expect(IIOADCInput.channelType("voltage0-voltage1") == "voltage-voltage")
    }
}
