#if canImport(Glibc)
import Glibc
#endif
import HAL
import Locking
import Synchronization

/// A PWM channel through the kernel's sysfs interface:
/// `<sysfs>/class/pwm/pwmchipN/{export, pwmM/{period, duty_cycle, polarity, enable}}`.
///
/// The kernel refuses any state with duty_cycle > period, so a change writes the attributes in
/// the order that keeps that true at every step: a shrinking period gets its duty first.
final class SysfsPWMOutput: PWMOutput {
    let name: String
    private let channelPath: String
    private let io: SysfsIO
    /// period/duty last written (nil until read back from the kernel once).
    private let current = Mutex<(period: UInt64, duty: UInt64)?>(nil)

    /// Opens `pwmchip<chip>/pwm<channel>` under `sysfsRoot`, exporting the channel if needed and
    /// waiting up to `exportTimeout` for the kernel (and udev's permission rules) to create it.
    init(sysfsRoot: String, chip: UInt32, channel: UInt32, io: SysfsIO,
         exportTimeout: EVSEDuration) throws {
        let chipPath = "\(sysfsRoot)/class/pwm/pwmchip\(chip)"
        channelPath = "\(chipPath)/pwm\(channel)"
        name = channelPath
        self.io = io
        guard io.isDirectory(chipPath) else {
            throw HardwareError(.deviceMissing, device: chipPath,
                                "no such PWM chip (is the PWM overlay enabled, e.g. dtoverlay=pwm on a Raspberry Pi?)")
        }
        if let npwm = try? io.read("\(chipPath)/npwm"), let count = UInt32(npwm), channel >= count {
            throw HardwareError(.deviceMissing, device: channelPath, "pwmchip\(chip) has \(count) channel(s): 0...\(count - 1)")
        }
        if !io.isDirectory(channelPath) {
            try io.write(String(channel), to: "\(chipPath)/export")
            try waitForChannel(timeout: exportTimeout)
        }
    }

    private func waitForChannel(timeout: EVSEDuration) throws {
        // The kernel creates pwmM at once; udev may chown its attributes a little later.
        let step: UInt32 = 5_000
        var waited: Int64 = 0
        while true {
            if io.isDirectory(channelPath) && access("\(channelPath)/period", W_OK) == 0 { return }
            if waited >= timeout.microseconds {
                if io.isDirectory(channelPath) {
                    throw HardwareError(.permissionDenied, device: "\(channelPath)/period",
                                        "exported, but not writable after \(timeout) (add a udev rule giving the firmware's group write access)")
                }
                throw HardwareError(.timeout, device: channelPath, "did not appear within \(timeout) after writing to export")
            }
            sleepMicroseconds(step)
            waited += Int64(step)
        }
    }

    private func attribute(_ a: String) -> String { "\(channelPath)/\(a)" }

    private func readNumber(_ a: String) throws -> UInt64 {
        let text = try io.read(attribute(a))
        guard let v = UInt64(text) else {
            throw HardwareError(.protocolError, device: attribute(a), "expected a number of nanoseconds, read \"\(text)\"")
        }
        return v
    }

    func configure(periodNanoseconds period: UInt64, dutyNanoseconds duty: UInt64) throws {
        guard period > 0 else {
            throw HardwareError(.invalidArgument, device: name, "period must be > 0 ns")
        }
        guard duty <= period else {
            throw HardwareError(.invalidArgument, device: name, "duty \(duty) ns > period \(period) ns")
        }
        try current.locked { cur in
            let known = cur
            // After a failed write the kernel's state is unknown: read it back next time.
            cur = nil
            let (oldPeriod, oldDuty) = try known ?? (readNumber("period"), readNumber("duty_cycle"))
            if period < oldPeriod {
                if duty != oldDuty { try io.write(String(duty), to: attribute("duty_cycle")) }
                try io.write(String(period), to: attribute("period"))
            } else {
                if period != oldPeriod { try io.write(String(period), to: attribute("period")) }
                if duty != oldDuty || known == nil { try io.write(String(duty), to: attribute("duty_cycle")) }
            }
            cur = (period, duty)
        }
    }

    func setPolarity(_ polarity: PWMPolarity) throws {
        // Most PWM drivers take a polarity change only while the channel is disabled.
        let enabled = (try? io.read(attribute("enable"))) == "1"
        if enabled { try io.write("0", to: attribute("enable")) }
        try io.write(polarity.rawValue, to: attribute("polarity"))
        if enabled { try io.write("1", to: attribute("enable")) }
    }

    func setEnabled(_ enabled: Bool) throws {
        try io.write(enabled ? "1" : "0", to: attribute("enable"))
    }
}
