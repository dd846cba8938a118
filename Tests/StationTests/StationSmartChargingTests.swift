import ChargingCore
import HAL
import Station
import Testing

@Suite("Station smart charging")
struct StationSmartChargingTests {
    static func profile(_ id: Int, _ purpose: ChargingProfilePurpose, amps: Double, connector: Int) throws -> InstalledChargingProfile {
        try InstalledChargingProfile(connectorId: connector, profile: ChargingProfile(
            id: id, stackLevel: 0, purpose: purpose, kind: .relative,
            schedule: ChargingSchedule(unit: .amps, periods: [ChargingSchedulePeriod(startPeriod: 0, limit: amps)])))
    }

    func duty(_ rig: Rig, near amps: Double) -> Bool { abs((rig.pwm(1)?.dutyPercent ?? 0) - amps / 0.6) < 0.1 }

    @Test func installedProfilesLimitThePilotOfferAndClearingLiftsIt() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        #expect(duty(rig, near: 32))

        var profiles = CompositeScheduleCalculator()
        profiles.install(try Self.profile(1, .txDefaultProfile, amps: 10, connector: 0))
        rig.station.installChargingProfiles(profiles)
        #expect(rig.step(until: { duty(rig, near: 10) }) != nil)

        // The station maximum caps below the default.
        profiles.install(try Self.profile(2, .chargingStationMaxProfile, amps: 8, connector: 0))
        rig.station.installChargingProfiles(profiles)
        #expect(rig.step(until: { duty(rig, near: 8) }) != nil)

        rig.station.installChargingProfiles(CompositeScheduleCalculator())
        #expect(rig.step(until: { duty(rig, near: 32) }, limit: 20_000) != nil)
    }
}
