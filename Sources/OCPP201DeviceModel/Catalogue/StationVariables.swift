/// DeviceDataCtrlr, ClockCtrlr, SecurityCtrlr and the ChargingStation component: the station as
/// a whole, its clock, its security settings and its message limits.
enum StationVariables {
    /// Items and bytes a GetVariables / SetVariables request may carry, and a NotifyReport page.
    static let itemsPerGetVariables = 50
    static let itemsPerSetVariables = 50
    static let itemsPerReport = 100
    static let bytesPerMessage = 65_536
    /// Longest value SetVariables accepts and GetVariables / reports return (the schemas' limits).
    static let configurationValueSize = 1_000
    static let reportingValueSize = 2_500
    static let availabilityStates = "Available,Occupied,Reserved,Unavailable,Faulted"

    static func components(layout: StationLayout, identity: StationIdentity) -> [ComponentSpec] {
        var station: [VariableSpec] = [
            //       name                     type          value
            .state("AvailabilityState",       .optionList,  "Available",            values: availabilityStates),
            .fixed("Available",               .boolean,     "true"),
            .fixed("SupplyPhases",            .integer,     "\(layout.supplyPhases)", min: 0, max: 3),
            .state("Problem",                 .boolean,     "false"),
            // What BootNotification reports, for inventory.
            .fixed("VendorName",              .string,      identity.vendorName),
            .fixed("Model",                   .string,      identity.model),
            .fixed("FirmwareVersion",         .string,      identity.firmwareVersion),
        ]
        if let serial = identity.serialNumber { station.append(.fixed("SerialNumber", .string, serial)) }
        return [
            ComponentSpec(name: "DeviceDataCtrlr", variables: [
                .fixed("ItemsPerMessage",     instance: "GetReport",     .integer, "\(itemsPerReport)"),
                .fixed("ItemsPerMessage",     instance: "GetVariables",  .integer, "\(itemsPerGetVariables)"),
                .fixed("ItemsPerMessage",     instance: "SetVariables",  .integer, "\(itemsPerSetVariables)"),
                .fixed("BytesPerMessage",     instance: "GetReport",     .integer, "\(bytesPerMessage)"),
                .fixed("BytesPerMessage",     instance: "GetVariables",  .integer, "\(bytesPerMessage)"),
                .fixed("BytesPerMessage",     instance: "SetVariables",  .integer, "\(bytesPerMessage)"),
                .fixed("ConfigurationValueSize",                         .integer, "\(configurationValueSize)"),
                .fixed("ReportingValueSize",                             .integer, "\(reportingValueSize)"),
            ]),
            ComponentSpec(name: "ClockCtrlr", variables: [
                // Read when asked (DeviceModel.provideActual): the station's clock, not a copy.
                .state("DateTime",            .dateTime,    ""),
                .setting("TimeSource",        .sequenceList, "Heartbeat",           values: "Heartbeat,NTP,RealTimeClock"),
            ]),
            ComponentSpec(name: "SecurityCtrlr", variables: [
                .state("CertificateEntries",  .integer,     "0",                    min: 0),
                .fixed("Identity",            .string,      identity.stationId ?? "", max: 48),
                .setting("OrganizationName",  .string,      identity.vendorName,    max: 50),
                // Raised by the station when the CSMS moves it to a higher profile; never lowered
                // by a CSMS request, so read-only here, and kept across restarts.
                .state("SecurityProfile",     .integer,     "1",                    min: 1, max: 3, persistent: true),
                // Optional ones the firmware honours.
                .secret("BasicAuthPassword",  .string,      "",                     min: 16, max: 40),
                .fixed("AdditionalRootCertificateCheck", .boolean, "false"),
                .fixed("MaxCertificateChainSize", .integer, "10000"),
                .setting("CertSigningWaitMinimum", .integer, "60",                  unit: "s", min: 1, max: 86_400),
                .setting("CertSigningRepeatTimes", .integer, "3",                   min: 0, max: 100),
            ]),
            ComponentSpec(name: "ChargingStation", variables: station),
        ]
    }
}
