/// SmartChargingCtrlr, ReservationCtrlr and DisplayMessageCtrlr: optional functions, each with
/// its Available / Enabled switch (OCPP 2.0.1 functional blocks K, H and O).
enum FeatureVariables {
    /// Limits of the core's charging profiles (the same as the 1.6 adapter reports).
    static let profileStackLevel = 10
    static let periodsPerSchedule = 24

    static func components() -> [ComponentSpec] {
        [
            ComponentSpec(name: "SmartChargingCtrlr", variables: [
                //       name                          instance                 type          value
                .fixed("Available",                                             .boolean,     "true"),
                .setting("Enabled",                                             .boolean,     "true"),
                .state("Entries",                      instance: "ChargingProfiles", .integer, "0",   min: 0),
                .setting("LimitChangeSignificance",                             .decimal,     "10",  unit: "Percent", min: 0, max: 100),
                .fixed("PeriodsPerSchedule",                                    .integer,     "\(periodsPerSchedule)"),
                .fixed("ProfileStackLevel",                                     .integer,     "\(profileStackLevel)"),
                .fixed("RateUnit",                                              .memberList,  "A,W", values: "A,W"),
                .fixed("Phases3to1",                                            .boolean,     "false"),
            ]),
            ComponentSpec(name: "ReservationCtrlr", variables: [
                .fixed("Available",                                             .boolean,     "true"),
                .setting("Enabled",                                             .boolean,     "true"),
                // A reservation without an EVSE is kept on whichever EVSE stays free.
                .fixed("NonEvseSpecific",                                       .boolean,     "true"),
            ]),
            // Display messages are another issue: reported, not offered yet.
            ComponentSpec(name: "DisplayMessageCtrlr", variables: [
                .fixed("Available",                                             .boolean,     "false"),
                .fixed("Enabled",                                               .boolean,     "false"),
                .fixed("DisplayMessages",                                       .integer,     "0"),
                .fixed("SupportedFormats",                                      .memberList,  "ASCII", values: "ASCII,HTML,URI,UTF8"),
                .fixed("SupportedPriorities",                                   .memberList,  "NormalCycle",
                       values: "AlwaysFront,InFront,NormalCycle"),
            ]),
        ]
    }
}
