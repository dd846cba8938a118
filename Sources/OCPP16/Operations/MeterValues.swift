import StationPort
import ChargingCore
import OCPP16Messages

/// MeterValues (charge point → CSMS): one sample of the measurands configured in
/// MeterValuesSampledData that the connector's meter provides.
enum MeterValuesOperation {
    static func meterValue(_ c: ConnectorSnapshot, measurands: [Measurand], context: ReadingContext, atUnixMs: UInt64)
        -> MeterValuesRequest.MeterValue?
    {
        typealias Sample = MeterValuesRequest.MeterValue.SampledValue
        var values: [Sample] = []
        for measurand in measurands {
            switch measurand {
            case .energyActiveImportRegister:
                if let wh = c.energyWh {
                    values.append(Sample(value: format(wh), context: context, measurand: measurand, unit: .wh))
                }
            case .powerActiveImport:
                if let w = c.powerW { values.append(Sample(value: format(w), context: context, measurand: measurand, unit: .w)) }
            case .currentImport:
                let phases: [Phase] = [.l1, .l2, .l3]
                for (i, amps) in c.currentsA.prefix(3).enumerated() {
                    values.append(Sample(value: format(amps), context: context, measurand: measurand, phase: phases[i], unit: .a))
                }
            default:
                continue
            }
        }
        guard !values.isEmpty else { return nil }
        return MeterValuesRequest.MeterValue(timestamp: OCPP16Timestamp.string(unixMs: atUnixMs), sampledValue: values)
    }

    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 10).rounded() / 10
        if rounded == rounded.rounded() { return String(Int64(rounded)) }
        return String(rounded)
    }
}
