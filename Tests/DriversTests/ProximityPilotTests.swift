import Testing
import HAL
import HALFake
@testable import Drivers

@Suite("ProximityPilot")
struct ProximityPilotTests {
    /// Volts across Rc with the simulator's circuit (1000 Ω pull-up to 5 V).
    static func volts(forOhms r: Double) -> Double { 5.0 * r / (r + 1000) }

    let backend = FakeBackend()
    let adc: FakeADCInput
    let pp: ProximityPilot

    init() throws {
        adc = backend.adcChannel(.named("pp"))
        pp = try ProximityPilot(config: ProximityPilotConfig(rating: .measured(ProximityCircuit())),
                                adc: try backend.openADC(.named("pp")))
    }

    @Test("coding resistors map to their ampacity", arguments: [
        (1500.0, 13), (680.0, 20), (220.0, 32), (100.0, 63),
    ])
    func codingResistors(ohms: Double, amps: Int) throws {
        adc.set(volts: Self.volts(forOhms: ohms))
        let reading = try pp.read()
        #expect(reading.detection == .cable(amps: amps))
        #expect(abs((reading.ohms ?? 0) - ohms) < 0.01)
        #expect(try pp.ampacity() == amps)
    }

    @Test("decision thresholds; a boundary goes to the lower ampacity", arguments: [
        (75.0, CableDetection.cable(amps: 63)), (149.0, .cable(amps: 63)), (150.0, .cable(amps: 32)),
        (329.0, .cable(amps: 32)), (330.0, .cable(amps: 20)), (999.0, .cable(amps: 20)),
        (1000.0, .cable(amps: 13)), (2199.0, .cable(amps: 13)), (2200.0, .noCable),
    ])
    func thresholds(ohms: Double, expected: CableDetection) throws {
        // Exactly on a bound, volts → ohms loses the last bit, so test the decision itself.
        #expect(ProximityThresholds.iec61851.detect(ohms: ohms) == expected)
    }

    @Test("near the bounds through the ADC", arguments: [
        (148.0, 63), (152.0, 32), (325.0, 32), (335.0, 20), (990.0, 20), (1010.0, 13), (2150.0, 13),
    ])
    func nearBoundsThroughTheADC(ohms: Double, amps: Int) throws {
        adc.set(volts: Self.volts(forOhms: ohms))
        #expect(try pp.ampacity() == amps)
    }

    @Test func justAboveTheLastBoundIsNoCable() throws {
        adc.set(volts: Self.volts(forOhms: 2250))
        #expect(try pp.read().detection == .noCable)
    }

    @Test func shortedPPIsAnError() throws {
        adc.set(volts: Self.volts(forOhms: 74))
        guard case let .invalid(ohms) = try pp.read().detection else {
            Issue.record("74 Ω must be invalid")
            return
        }
        #expect(abs(ohms - 74) < 0.01)
        #expect(throws: ProximityPilotError.self) { try pp.ampacity() }
        adc.set(volts: 0)
        #expect(try pp.read().detection == .invalid(ohms: 0))
    }

    @Test func openCircuitIsNoCable() throws {
        adc.set(volts: 5.0)
        let reading = try pp.read()
        #expect(reading.detection == .noCable && reading.ohms == nil)
        #expect(throws: ProximityPilotError.noCable) { try pp.ampacity() }
        adc.set(volts: 5.3)
        #expect(try pp.read().detection == .noCable, "above the supply is still open")
    }

    @Test func calibrationAndOtherCircuits() throws {
        let other = try ProximityPilot(
            config: ProximityPilotConfig(rating: .measured(ProximityCircuit(
                pullUpOhms: 330, supplyVolts: 3.3, calibration: ADCCalibration(gain: 2)))),
            adc: try backend.openADC(.named("pp")))
        // 220 Ω with 330 Ω to 3.3 V: 1.32 V at Rc, 0.66 V at the pin behind a 1:2 divider.
        adc.set(volts: 0.66)
        #expect(try other.ampacity() == 32)
    }

    @Test func fixedCableNeedsNoADC() throws {
        let fixed = try ProximityPilot(config: ProximityPilotConfig(rating: .fixed(amps: 32)), adc: nil)
        #expect(try fixed.ampacity() == 32)
        #expect(try fixed.read().volts == nil)
    }

    @Test func badConfigurationsAreRejected() throws {
        #expect(throws: ProximityPilotError.self) {
            _ = try ProximityPilot(config: ProximityPilotConfig(rating: .measured(ProximityCircuit())), adc: nil)
        }
        #expect(throws: ProximityPilotError.self) {
            _ = try ProximityPilot(config: ProximityPilotConfig(rating: .fixed(amps: 100)), adc: nil)
        }
        #expect(throws: ProximityPilotError.self) {
            _ = try ProximityPilot(config: ProximityPilotConfig(rating: .measured(ProximityCircuit(pullUpOhms: 0))),
                                   adc: try backend.openADC(.named("pp")))
        }
        #expect(throws: ProximityPilotError.self) {
            _ = try ProximityThresholds(shortBelowOhms: 75, ranges: [(150, 63), (100, 32)])
        }
        #expect(throws: ProximityPilotError.self) { _ = try ProximityThresholds(shortBelowOhms: 75, ranges: []) }
    }

    @Test func customThresholds() throws {
        let t = try ProximityThresholds(shortBelowOhms: 50, ranges: [(400, 32), (3000, 16)])
        #expect(t.detect(ohms: 40) == .invalid(ohms: 40))
        #expect(t.detect(ohms: 399) == .cable(amps: 32))
        #expect(t.detect(ohms: 2500) == .cable(amps: 16))
        #expect(t.detect(ohms: 3000) == .noCable)
        #expect(t.detect(ohms: nil) == .noCable)
    }

    @Test func adcFailureIsThrown() throws {
        adc.fail(with: HardwareError(.ioFailed, device: "pp", "read failed"))
        #expect(throws: HardwareError.self) { try pp.read() }
    }
}
