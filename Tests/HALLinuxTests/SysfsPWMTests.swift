import Foundation
import HAL
@testable import HALLinux
import Testing

@Suite struct SysfsPWMTests {
    /// A chip with channel `channel` already exported and the given period/duty.
    func tree(period: UInt64 = 0, duty: UInt64 = 0, enabled: Bool = false, exported: Bool = true) throws -> TempTree {
        let t = try TempTree()
        try t.write("class/pwm/pwmchip0/npwm", "2\n")
        try t.write("class/pwm/pwmchip0/export", "")
        if exported {
            try t.write("class/pwm/pwmchip0/pwm1/period", "\(period)\n")
            try t.write("class/pwm/pwmchip0/pwm1/duty_cycle", "\(duty)\n")
            try t.write("class/pwm/pwmchip0/pwm1/polarity", "normal\n")
            try t.write("class/pwm/pwmchip0/pwm1/enable", enabled ? "1\n" : "0\n")
        }
        return t
    }

    func backend(_ t: TempTree, io: SysfsIO, exportTimeout: EVSEDuration = .milliseconds(2_000)) -> LinuxBackend {
        LinuxBackend(sysfsRoot: t.root, devRoot: t.path("dev"), pwmExportTimeout: exportTimeout, io: io)
    }

    @Test func growingPeriodWritesPeriodBeforeDuty() throws {
        let t = try tree(period: 500_000, duty: 100_000)
        let io = SysfsIO(tracing: true)
        let pwm = try backend(t, io: io).openPWM(.sysfs(chip: 0, channel: 1))
        try pwm.configure(periodNanoseconds: 1_000_000, dutyNanoseconds: 900_000)
        let dir = t.path("class/pwm/pwmchip0/pwm1")
        #expect(io.writes == ["\(dir)/period <- 1000000", "\(dir)/duty_cycle <- 900000"])
        #expect(try t.read("class/pwm/pwmchip0/pwm1/period") == "1000000")
        #expect(try t.read("class/pwm/pwmchip0/pwm1/duty_cycle") == "900000")
    }

    @Test func shrinkingPeriodWritesDutyFirst() throws {
        // 1 kHz at 90 % → 2 kHz at 40 %: writing the period first would leave duty 900 µs
        // above a 500 µs period, which the kernel refuses.
        let t = try tree(period: 1_000_000, duty: 900_000)
        let io = SysfsIO(tracing: true)
        let pwm = try backend(t, io: io).openPWM(.sysfs(chip: 0, channel: 1))
        try pwm.configure(periodNanoseconds: 500_000, dutyNanoseconds: 200_000)
        let dir = t.path("class/pwm/pwmchip0/pwm1")
        #expect(io.writes == ["\(dir)/duty_cycle <- 200000", "\(dir)/period <- 500000"])
    }

    @Test func sameperiodWritesOnlyTheDuty() throws {
        let t = try tree(period: 1_000_000, duty: 50_000)
        let io = SysfsIO(tracing: true)
        let pwm = try backend(t, io: io).openPWM(.sysfs(chip: 0, channel: 1))
        try pwm.configure(periodNanoseconds: 1_000_000, dutyNanoseconds: 266_000)
        try pwm.configure(periodNanoseconds: 1_000_000, dutyNanoseconds: 533_000)
        let dir = t.path("class/pwm/pwmchip0/pwm1")
        #expect(io.writes == ["\(dir)/duty_cycle <- 266000", "\(dir)/duty_cycle <- 533000"])
    }

    @Test func dutyAbovePeriodIsRejectedAndNothingIsWritten() throws {
        let t = try tree(period: 1_000_000, duty: 0)
        let io = SysfsIO(tracing: true)
        let pwm = try backend(t, io: io).openPWM(.sysfs(chip: 0, channel: 1))
        let error = #expect(throws: HardwareError.self) {
            try pwm.configure(periodNanoseconds: 1_000_000, dutyNanoseconds: 1_000_001)
        }
        #expect(error?.kind == .invalidArgument)
        #expect(io.writes.isEmpty)
        #expect(try t.read("class/pwm/pwmchip0/pwm1/period") == "1000000")
    }

    @Test func polarityChangeDisablesAroundTheWriteWhenEnabled() throws {
        let t = try tree(period: 1_000_000, duty: 0, enabled: true)
        let io = SysfsIO(tracing: true)
        let pwm = try backend(t, io: io).openPWM(.sysfs(chip: 0, channel: 1))
        try pwm.setPolarity(.inversed)
        let dir = t.path("class/pwm/pwmchip0/pwm1")
        #expect(io.writes == ["\(dir)/enable <- 0", "\(dir)/polarity <- inversed", "\(dir)/enable <- 1"])
        try pwm.setEnabled(false)
        #expect(try t.read("class/pwm/pwmchip0/pwm1/enable") == "0")
    }

    @Test func missingChipNamesThePath() throws {
        let t = try tree()
        let error = #expect(throws: HardwareError.self) {
            _ = try backend(t, io: SysfsIO()).openPWM(.sysfs(chip: 3, channel: 0))
        }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.device == t.path("class/pwm/pwmchip3"))
    }

    @Test func channelBeyondNpwmIsMissing() throws {
        let t = try tree()
        let error = #expect(throws: HardwareError.self) {
            _ = try backend(t, io: SysfsIO()).openPWM(.sysfs(chip: 0, channel: 2))
        }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.detail.contains("2 channel") == true)
    }

    @Test func exportThatNeverAppearsTimesOutNamingTheChannel() throws {
        let t = try tree(exported: false)
        let io = SysfsIO(tracing: true)
        let error = #expect(throws: HardwareError.self) {
            _ = try backend(t, io: io, exportTimeout: .milliseconds(20)).openPWM(.sysfs(chip: 0, channel: 1))
        }
        #expect(io.writes == ["\(t.path("class/pwm/pwmchip0/export")) <- 1"])
        #expect(error?.kind == .timeout)
        #expect(error?.device == t.path("class/pwm/pwmchip0/pwm1"))
    }

    @Test func exportCreatesTheChannelThenItIsUsed() throws {
        // `export` is a FIFO: a stand-in kernel reads the channel number and creates pwmN, as
        // the real one does, before the backend's open of the FIFO returns.
        let t = try tree(exported: false)
        try t.remove("class/pwm/pwmchip0/export")
        let exportPath = t.path("class/pwm/pwmchip0/export")
        #expect(mkfifo(exportPath, 0o600) == 0)
        let kernel = Thread {
            guard let handle = FileHandle(forReadingAtPath: exportPath) else { return }
            let data = handle.readDataToEndOfFile()
            let channel = String(decoding: data, as: UTF8.self)
            // Built aside and renamed into place: the channel appears complete, as from the kernel.
            for attribute in ["period", "duty_cycle", "polarity", "enable"] {
                try? t.write("staging/\(attribute)", attribute == "polarity" ? "normal" : "0")
            }
            rename(t.path("staging"), t.path("class/pwm/pwmchip0/pwm\(channel)"))
        }
        kernel.start()
        let io = SysfsIO(tracing: true)
        let pwm = try backend(t, io: io).openPWM(.sysfs(chip: 0, channel: 1))
        try pwm.configure(periodNanoseconds: 1_000_000, dutyNanoseconds: 50_000)
        try pwm.setEnabled(true)
        let dir = t.path("class/pwm/pwmchip0/pwm1")
        #expect(io.writes == ["\(exportPath) <- 1", "\(dir)/period <- 1000000", "\(dir)/duty_cycle <- 50000", "\(dir)/enable <- 1"])
    }

    @Test func namedChannelsAreNotForTheLinuxBackend() throws {
        let error = #expect(throws: HardwareError.self) {
            _ = try LinuxBackend(sysfsRoot: "/nonexistent").openPWM(.named("c1.cp.pwm"))
        }
        #expect(error?.kind == .invalidArgument)
    }
}
