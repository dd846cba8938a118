/// The EVSE and Connector components, one set per EVSE of the board file.
enum EVSEVariables {
    static func components(layout: StationLayout) -> [ComponentSpec] {
        layout.evses.flatMap { evse -> [ComponentSpec] in
            let maxPower = evse.maxPowerW.map(decimalText)
            let evseComponent = ComponentSpec(name: "EVSE", evseId: evse.evseId, variables: [
                //       name                  type          value           limits
                .state("AvailabilityState",    .optionList,  "Available",    values: StationVariables.availabilityStates),
                .fixed("Available",            .boolean,     "true"),
                .state("Power",                .decimal,     "0",            unit: "W", min: 0, max: evse.maxPowerW)
                    .with(.maxSet, fixed: maxPower),
                .fixed("SupplyPhases",         .integer,     "\(evse.phases)", min: 0, max: 3),
            ])
            let connectors = evse.connectorIds.map { connectorId in
                ComponentSpec(name: "Connector", evseId: evse.evseId, connectorId: connectorId, variables: [
                    .state("AvailabilityState", .optionList, "Available",    values: StationVariables.availabilityStates),
                    .fixed("Available",         .boolean,    "true"),
                    .fixed("ConnectorType",     .string,     evse.connectorType ?? "Unknown"),
                    .fixed("SupplyPhases",      .integer,    "\(evse.phases)", min: 0, max: 3),
                ])
            }
            return [evseComponent] + connectors
        }
    }
}
