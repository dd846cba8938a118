/// SmartChargingCtrlr, ReservationCtrlr and DisplayMessageCtrlr: optional functions, each with
/// its Available / Enabled switch (OCPP 2.0.1 functional blocks K, H, O and I's TariffCostCtrlr).
enum FeatureVariables {
    /// Limits of the core's charging profiles (the same as the 1.6 adapter reports).
    static let profileStackLevel = 10
    static let periodsPerSchedule = 24

    static func components(layout: StationLayout) -> [ComponentSpec] {
        [
            ComponentSpec(name: "SmartChargingCtrlr", variables: [
                //       name                          instance                 type          value
                .fixed("Available",                                             .boolean,     "true"),
                .setting("Enabled",                                             .boolean,     "true"),
                .state("Entries",                      instance: "ChargingProfiles", .integer, "0",   min: 0),
                .setting("LimitChangeSignificance",                             .decimal,     "10",  unit: "Percent", min: 0, max: 100),
                // NotifyChargingLimit carries the station's own limit as a schedule too.
                .setting("NotifyChargingLimitWithSchedules",                    .boolean,     "false"),
                .fixed("PeriodsPerSchedule",                                    .integer,     "\(periodsPerSchedule)"),
                .fixed("ProfileStackLevel",                                     .integer,     "\(profileStackLevel)"),
                .fixed("RateUnit",                                              .memberList,  "A,W", values: "A,W"),
                // The phase switch relay of our boards goes between three phases and L1: the
                // station can drop to one phase mid-transaction (numberPhases 1) but cannot
                // pick which phase, so a schedule period with phaseToUse
                // is refused (the spec allows it only where ACPhaseSwitchingSupported is true).
                .fixed("Phases3to1",                                            .boolean,     "\(layout.evses.contains(where: \.canSwitchPhases))"),
                .fixed("ACPhaseSwitchingSupported",                             .boolean,     "false"),
            ]),
            ComponentSpec(name: "ReservationCtrlr", variables: [
                .fixed("Available",                                             .boolean,     "true"),
                .setting("Enabled",                                             .boolean,     "true"),
                // A reservation without an EVSE is kept on whichever EVSE stays free.
                .fixed("NonEvseSpecific",                                       .boolean,     "true"),
            ]),
            // Block O: what the station's display takes (one display; messages paged on it).
            ComponentSpec(name: "DisplayMessageCtrlr", variables: [
                .fixed("Available",                                             .boolean,     "true"),
                .setting("Enabled",                                             .boolean,     "true"),
                // The messages held now; maxLimit is how many the station keeps.
                .state("DisplayMessages",                                       .integer,     "0",
                       min: 0, max: Double(DisplayMessageCapacity.messages)),
                .fixed("SupportedFormats",                                      .memberList,  "ASCII,UTF8",
                       values: "ASCII,HTML,URI,UTF8"),
                .fixed("SupportedPriorities",                                   .memberList,  "AlwaysFront,InFront,NormalCycle",
                       values: "AlwaysFront,InFront,NormalCycle"),
                .fixed("PersonalMessageSize",                                   .integer,     "\(DisplayMessageCapacity.personalMessageSize)"),
                .fixed("QRCodeDisplayCapable",                                  .boolean,     layout.displayCanShowQRCode ? "true" : "false"),
                .setting("Language",                                            .optionList,  layout.displayLanguage,
                         values: DisplayMessageCapacity.languages.joined(separator: ",")),
            ]),
            // Block I: the driver's tariff and cost, shown from the CSMS's messages.
            ComponentSpec(name: "TariffCostCtrlr", variables: [
                .fixed("Available",                    instance: "Tariff",      .boolean,     "true"),
                .fixed("Available",                    instance: "Cost",        .boolean,     "true"),
                .setting("Enabled",                    instance: "Tariff",      .boolean,     "true"),
                .setting("Enabled",                    instance: "Cost",        .boolean,     "true"),
                .setting("Currency",                                            .string,      "EUR", min: 3, max: 3),
                .setting("TariffFallbackMessage",                               .string,      "",    max: 255),
                .setting("TotalCostFallbackMessage",                            .string,      "",    max: 255),
            ]),
        ]
    }
}

/// What the station's display keeps and shows of a backend's messages.
public enum DisplayMessageCapacity {
    /// Display messages kept at most (DisplayMessageCtrlr.DisplayMessages' maxLimit): a backend
    /// setting more gets Rejected, so storage stays bounded.
    public static let messages = 50
    /// Characters of a personal message (idTokenInfo.personalMessage) shown; the rest is cut.
    public static let personalMessageSize = 255
    /// The languages the station has screens in (DisplayMessageCtrlr.Language's values).
    public static let languages = ["en", "de", "fr", "nl"]
}
