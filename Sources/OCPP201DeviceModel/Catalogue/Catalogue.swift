/// Every component and variable this firmware offers, for one station layout and identity.
enum Catalogue {
    static func components(layout: StationLayout, identity: StationIdentity) -> [ComponentSpec] {
        CommunicationVariables.components()
            + AuthorizationVariables.components()
            + TransactionVariables.components(measurands: layout.measurands)
            + StationVariables.components(layout: layout, identity: identity)
            + FeatureVariables.components(layout: layout)
            + MonitoringVariables.components()
            + EVSEVariables.components(layout: layout)
    }

    static func definitions(layout: StationLayout, identity: StationIdentity) -> [VariableDefinition] {
        components(layout: layout, identity: identity).flatMap { component in
            component.variables.map { spec in
                VariableDefinition(key: VariableKey(component: component.name, evseId: component.evseId,
                                                    connectorId: component.connectorId,
                                                    componentInstance: component.instance,
                                                    variable: spec.name, variableInstance: spec.instance),
                                   spec: spec)
            }
        }
    }
}
