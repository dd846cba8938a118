import Foundation
import HAL
@testable import HALLinux
import Testing

@Suite struct SysfsKernelLEDTests {
    /// `class/leds/evse:blue` with `max_brightness` and the triggers the kernel lists.
    func tree(max: Int = 255, triggers: String = "[none] timer heartbeat pattern") throws -> TempTree {
        let t = try TempTree()
        try t.write("class/leds/evse:blue/max_brightness", "\(max)\n")
        try t.write("class/leds/evse:blue/brightness", "0\n")
        try t.write("class/leds/evse:blue/trigger", triggers + "\n")
        // The kernel creates `pattern` when the trigger is selected; a plain file stands in.
        try t.write("class/leds/evse:blue/pattern", "")
        return t
    }

    func backend(_ t: TempTree, io: SysfsIO) -> LinuxBackend {
        LinuxBackend(sysfsRoot: t.root, devRoot: t.path("dev"), pwmExportTimeout: .milliseconds(100), io: io)
    }

    @Test func aPatternSelectsTheTriggerThenWritesPointsScaledToMaxBrightness() throws {
        let t = try tree(max: 1_000)
        let io = SysfsIO(tracing: true)
        let led = try backend(t, io: io).openLED(.sysfs("evse:blue"))
        try led.runPattern([LEDPatternPoint(brightness: 0, milliseconds: 1_000), LEDPatternPoint(brightness: 0.25, milliseconds: 500),
                            LEDPatternPoint(brightness: 1, milliseconds: 0)])
        let dir = t.path("class/leds/evse:blue")
        #expect(io.writes == ["\(dir)/trigger <- pattern", "\(dir)/pattern <- 0 1000 250 500 1000 0"])
    }

    @Test func aSteadyBrightnessLeavesTheTriggerOnceThenWritesOnlyTheBrightness() throws {
        let t = try tree()
        let io = SysfsIO(tracing: true)
        let led = try backend(t, io: io).openLED(.sysfs("evse:blue"))
        let dir = t.path("class/leds/evse:blue")
        // Whatever trigger was left behind (here none, but it might be heartbeat) is cleared first.
        try led.setBrightness(1)
        try led.setBrightness(0.5)
        #expect(io.writes == ["\(dir)/trigger <- none", "\(dir)/brightness <- 255", "\(dir)/brightness <- 128"])
        #expect(try t.read("class/leds/evse:blue/brightness") == "128")
        // After a pattern, a steady brightness stops it again.
        try led.runPattern([LEDPatternPoint(brightness: 0, milliseconds: 100), LEDPatternPoint(brightness: 1, milliseconds: 100)])
        try led.setBrightness(0)
        #expect(io.writes.suffix(4) == ["\(dir)/trigger <- pattern", "\(dir)/pattern <- 0 100 255 100",
                                        "\(dir)/trigger <- none", "\(dir)/brightness <- 0"])
    }

    @Test func aMissingLEDOrAKernelWithoutThePatternTriggerIsRefusedAtOpen() throws {
        let t = try tree(triggers: "[none] timer heartbeat")
        let io = SysfsIO(tracing: true)
        let error = #expect(throws: HardwareError.self) { _ = try backend(t, io: io).openLED(.sysfs("evse:blue")) }
        #expect(error?.kind == .deviceMissing && "\(error!)".contains("CONFIG_LEDS_TRIGGER_PATTERN"))
        let missing = #expect(throws: HardwareError.self) { _ = try backend(t, io: io).openLED(.sysfs("evse:red")) }
        #expect(missing?.kind == .deviceMissing && "\(missing!)".contains("class/leds/evse:red"))
        #expect(throws: HardwareError.self) { _ = try backend(t, io: io).openLED(.named("c1.led.blue.class")) }
        #expect(io.writes.isEmpty, "nothing is written to an LED that was refused")
    }

    @Test func aPatternOfOnePointIsRefusedWithoutAWrite() throws {
        let t = try tree()
        let io = SysfsIO(tracing: true)
        let led = try backend(t, io: io).openLED(.sysfs("evse:blue"))
        #expect(throws: HardwareError.self) { try led.runPattern([LEDPatternPoint(brightness: 1, milliseconds: 100)]) }
        #expect(io.writes.isEmpty)
    }
}
