import ChargingCore
import HAL
import Testing

@Suite("ConnectorConfig")
struct ConnectorConfigTests {
    @Test("defaults are valid")
    func defaults() throws {
        try ConnectorConfig().validate()
        try ConnectorConfig(fixedCableAmps: 16).validate()
    }

    @Test("bad values name the field", arguments: [
        (ConnectorConfig(minimumCurrent: 5), "minimumCurrent"),
        (ConnectorConfig(maximumCurrent: 100), "maximumCurrent"),
        (ConnectorConfig(fixedCableAmps: -1), "fixedCableAmps"),
        (ConnectorConfig(lockRequired: true, fixedCableAmps: 32), "lockRequired"),
        (ConnectorConfig(connectionTimeout: .zero), "connectionTimeout"),
        (ConnectorConfig(pwmWithdrawnOpenTimeout: .milliseconds(7_000)), "pwmWithdrawnOpenTimeout"),
        (ConnectorConfig(maxSampledValues: 1), "maxSampledValues"),
    ])
    func invalid(config: ConnectorConfig, field: String) {
        #expect(throws: ConnectorConfigError.self) { try config.validate() }
        do {
            try config.validate()
        } catch {
            #expect(error.description.contains(field))
        }
    }
}
