/// TxCtrlr, SampledDataCtrlr and AlignedDataCtrlr: when a transaction starts and ends, and which
/// meter values it reports (OCPP 2.0.1 functional blocks E and J).
enum TransactionVariables {
    /// TxStartPoint / TxStopPoint values the station carries out. Not offered, and Rejected when
    /// set: ParkingBayOccupancy (no board has a bay detector) and DataSigned (the meters sign
    /// nothing).
    static let txPoints = "EVConnected,Authorized,PowerPathClosed,EnergyTransfer"

    static func components(measurands: [String]) -> [ComponentSpec] {
        let list = measurands.joined(separator: ",")
        let energy = measurands.contains("Energy.Active.Import.Register") ? "Energy.Active.Import.Register" : ""
        return [
            ComponentSpec(name: "TxCtrlr", variables: [
                //       name                           type          value                   limits
                .setting("EVConnectionTimeOut",         .integer,     "60",                   unit: "s", min: 1, max: 3_600),
                .setting("StopTxOnEVSideDisconnect",    .boolean,     "true"),
                .setting("StopTxOnInvalidId",           .boolean,     "true"),
                .setting("TxStartPoint",                .memberList,  "PowerPathClosed",      values: txPoints),
                .setting("TxStopPoint",                 .memberList,  "EVConnected,Authorized", values: txPoints),
                // Optional: energy still allowed after the CSMS refused the token (Wh).
                .setting("MaxEnergyOnInvalidId",        .integer,     "0",                    unit: "Wh", min: 0, max: 1_000_000),
            ]),
            ComponentSpec(name: "SampledDataCtrlr", variables: [
                .fixed("Available",                     .boolean,     "true"),
                .setting("Enabled",                     .boolean,     "true"),
                .setting("TxEndedMeasurands",           .memberList,  energy,                 values: list),
                .setting("TxEndedInterval",             .integer,     "0",                    unit: "s", min: 0, max: 86_400),
                .setting("TxStartedMeasurands",         .memberList,  energy,                 values: list),
                .setting("TxUpdatedMeasurands",         .memberList,  energy,                 values: list),
                .setting("TxUpdatedInterval",           .integer,     "60",                   unit: "s", min: 0, max: 86_400),
            ]),
            ComponentSpec(name: "AlignedDataCtrlr", variables: [
                .fixed("Available",                     .boolean,     "true"),
                .setting("Enabled",                     .boolean,     "true"),
                .setting("Interval",                    .integer,     "900",                  unit: "s", min: 0, max: 86_400),
                .setting("Measurands",                  .memberList,  energy,                 values: list),
                .setting("SendDuringIdle",              .boolean,     "false"),
                .setting("TxEndedInterval",             .integer,     "0",                    unit: "s", min: 0, max: 86_400),
                .setting("TxEndedMeasurands",           .memberList,  "",                     values: list),
            ]),
        ]
    }
}
