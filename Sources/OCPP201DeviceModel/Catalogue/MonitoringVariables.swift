/// MonitoringCtrlr: the monitors the CSMS sets on variables and the events they raise
/// (OCPP 2.0.1 functional block N, monitoring).
enum MonitoringVariables {
    static let itemsPerMessage = 20
    static let monitoringBases = "All,FactoryDefault,HardWiredOnly"

    static func components() -> [ComponentSpec] {
        [ComponentSpec(name: "MonitoringCtrlr", variables: [
            //       name                     instance                        type          value
            .fixed("Available",                                                .boolean,     "true"),
            .setting("Enabled",                                                .boolean,     "true"),
            .fixed("ItemsPerMessage",         instance: "SetVariableMonitoring",   .integer, "\(itemsPerMessage)"),
            .fixed("ItemsPerMessage",         instance: "ClearVariableMonitoring", .integer, "\(itemsPerMessage)"),
            .fixed("BytesPerMessage",         instance: "SetVariableMonitoring",   .integer, "\(StationVariables.bytesPerMessage)"),
            .fixed("BytesPerMessage",         instance: "ClearVariableMonitoring", .integer, "\(StationVariables.bytesPerMessage)"),
            // Set by SetMonitoringBase / SetMonitoringLevel, kept across restarts.
            .state("ActiveMonitoringBase",                                     .optionList,  "All",
                   values: monitoringBases, persistent: true),
            .state("ActiveMonitoringLevel",                                    .integer,     "9",
                   min: 0, max: 9, persistent: true),
        ])]
    }
}
