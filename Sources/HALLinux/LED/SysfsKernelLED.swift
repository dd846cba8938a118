import HAL
import Locking
import Synchronization

/// An LED class device through sysfs: `<sysfs>/class/leds/NAME/{max_brightness, brightness,
/// trigger, pattern}`. A `pwm-leds` node in the device tree dims the LED through a PWM channel;
/// a `gpio-leds` node switches a line. Patterns run in the kernel's `pattern` trigger
/// (CONFIG_LEDS_TRIGGER_PATTERN), which ramps the brightness itself.
final class SysfsKernelLED: KernelLED {
    let name: String
    private let directory: String
    private let maxBrightness: Int
    private let io: SysfsIO
    /// Is the pattern trigger active? nil until the first write: the trigger another program
    /// left behind is unknown, so the first steady brightness clears it.
    private let patternRunning = Mutex<Bool?>(nil)

    init(sysfsRoot: String, name ledName: String, io: SysfsIO) throws {
        directory = "\(sysfsRoot)/class/leds/\(ledName)"
        name = directory
        self.io = io
        guard !ledName.isEmpty, !ledName.contains("/"), io.isDirectory(directory) else {
            throw HardwareError(.deviceMissing, device: directory,
                                "no such LED class device (is the LED in the device tree, e.g. a pwm-leds or gpio-leds node?)")
        }
        let maxText = try io.read("\(directory)/max_brightness")
        guard let max = Int(maxText), max > 0 else {
            throw HardwareError(.protocolError, device: "\(directory)/max_brightness", "expected a positive number, read \"\(maxText)\"")
        }
        maxBrightness = max
        // "none timer [heartbeat] pattern": the brackets mark the active trigger.
        let triggers = try io.read("\(directory)/trigger").split(separator: " ").map {
            String($0.filter { $0 != "[" && $0 != "]" })
        }
        guard triggers.contains("pattern") else {
            throw HardwareError(.deviceMissing, device: "\(directory)/trigger",
                                "the kernel has no pattern LED trigger (build it with CONFIG_LEDS_TRIGGER_PATTERN), or give the LED as a PWM channel or GPIO line")
        }
    }

    private func level(_ brightness: Double) -> Int {
        Int((min(1, max(0, brightness)) * Double(maxBrightness)).rounded())
    }

    func setBrightness(_ brightness: Double) throws {
        try patternRunning.locked { running in
            if running != false {
                // Leaving a trigger turns the LED off in the kernel; the brightness comes next.
                running = nil
                try io.write("none", to: "\(directory)/trigger")
            }
            try io.write(String(level(brightness)), to: "\(directory)/brightness")
            running = false
        }
    }

    func runPattern(_ pattern: [LEDPatternPoint]) throws {
        try LEDPatternPoint.check(pattern, device: name)
        let text = pattern.map { "\(level($0.brightness)) \($0.milliseconds)" }.joined(separator: " ")
        try patternRunning.locked { running in
            running = nil
            // Selecting the trigger (again) creates `pattern` and restarts it from its first point.
            try io.write("pattern", to: "\(directory)/trigger")
            try io.write(text, to: "\(directory)/pattern")
            running = true
        }
    }
}
