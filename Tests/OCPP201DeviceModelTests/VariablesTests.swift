import OCPP201DeviceModel
import OCPP201Messages
import Storage
import Locking
import Synchronization
import Testing

@Suite struct CatalogueTests {
    /// The required variables of OCPP 2.0.1's controllers (Part 2, appendix 3), by component.
    static let required: [(String, String, String?)] = [
        ("OCPPCommCtrlr", "FileTransferProtocols", nil), ("OCPPCommCtrlr", "MessageTimeout", "Default"),
        ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
        ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"), ("OCPPCommCtrlr", "NetworkConfigurationPriority", nil),
        ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", nil), ("OCPPCommCtrlr", "OfflineThreshold", nil),
        ("OCPPCommCtrlr", "ResetRetries", nil), ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", nil),
        ("AuthCtrlr", "AuthorizeRemoteStart", nil), ("AuthCtrlr", "LocalAuthorizeOffline", nil),
        ("AuthCtrlr", "LocalPreAuthorize", nil),
        ("AuthCacheCtrlr", "Enabled", nil), ("AuthCacheCtrlr", "LifeTime", nil), ("AuthCacheCtrlr", "Policy", nil),
        ("AuthCacheCtrlr", "Storage", nil),
        ("LocalAuthListCtrlr", "Enabled", nil), ("LocalAuthListCtrlr", "Entries", nil),
        ("LocalAuthListCtrlr", "ItemsPerMessage", nil), ("LocalAuthListCtrlr", "BytesPerMessage", nil),
        ("TxCtrlr", "EVConnectionTimeOut", nil), ("TxCtrlr", "StopTxOnEVSideDisconnect", nil),
        ("TxCtrlr", "StopTxOnInvalidId", nil), ("TxCtrlr", "TxStartPoint", nil), ("TxCtrlr", "TxStopPoint", nil),
        ("SampledDataCtrlr", "TxEndedMeasurands", nil), ("SampledDataCtrlr", "TxEndedInterval", nil),
        ("SampledDataCtrlr", "TxStartedMeasurands", nil), ("SampledDataCtrlr", "TxUpdatedMeasurands", nil),
        ("SampledDataCtrlr", "TxUpdatedInterval", nil),
        ("AlignedDataCtrlr", "Interval", nil), ("AlignedDataCtrlr", "Measurands", nil),
        ("AlignedDataCtrlr", "TxEndedInterval", nil), ("AlignedDataCtrlr", "TxEndedMeasurands", nil),
        ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"), ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
        ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"), ("DeviceDataCtrlr", "BytesPerMessage", "GetReport"),
        ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"), ("DeviceDataCtrlr", "BytesPerMessage", "SetVariables"),
        ("ClockCtrlr", "DateTime", nil), ("ClockCtrlr", "TimeSource", nil),
        ("SecurityCtrlr", "CertificateEntries", nil), ("SecurityCtrlr", "Identity", nil),
        ("SecurityCtrlr", "OrganizationName", nil), ("SecurityCtrlr", "SecurityProfile", nil),
        ("ChargingStation", "AvailabilityState", nil), ("ChargingStation", "Available", nil),
        ("ChargingStation", "SupplyPhases", nil),
        ("SmartChargingCtrlr", "Entries", "ChargingProfiles"), ("SmartChargingCtrlr", "LimitChangeSignificance", nil),
        ("SmartChargingCtrlr", "PeriodsPerSchedule", nil), ("SmartChargingCtrlr", "ProfileStackLevel", nil),
        ("SmartChargingCtrlr", "RateUnit", nil),
        ("ReservationCtrlr", "Enabled", nil), ("ReservationCtrlr", "NonEvseSpecific", nil),
        ("DisplayMessageCtrlr", "Available", nil), ("DisplayMessageCtrlr", "DisplayMessages", nil),
        ("DisplayMessageCtrlr", "SupportedFormats", nil), ("DisplayMessageCtrlr", "SupportedPriorities", nil),
        ("DisplayMessageCtrlr", "Enabled", nil), ("DisplayMessageCtrlr", "PersonalMessageSize", nil),
        ("DisplayMessageCtrlr", "QRCodeDisplayCapable", nil), ("DisplayMessageCtrlr", "Language", nil),
        ("TariffCostCtrlr", "Available", "Tariff"), ("TariffCostCtrlr", "Available", "Cost"),
        ("TariffCostCtrlr", "Enabled", "Tariff"), ("TariffCostCtrlr", "Enabled", "Cost"),
        ("TariffCostCtrlr", "Currency", nil), ("TariffCostCtrlr", "TariffFallbackMessage", nil),
        ("TariffCostCtrlr", "TotalCostFallbackMessage", nil),
    ]

    @Test func everyRequiredControllerVariableIsThere() throws {
        let model = try openModel(freshStore())
        let keys = Set(model.keys)
        for (component, variable, instance) in Self.required {
            #expect(keys.contains(VariableKey(component: component, variable: variable, variableInstance: instance)),
                    "\(component).\(variable)\(instance.map { "[\($0)]" } ?? "") is missing")
        }
    }

    @Test func evseAndConnectorComponentsFollowTheLayout() throws {
        let model = try openModel(freshStore())
        #expect(get(model, component("EVSE", evse: 1), "Power", .maxSet)?.attributeValue == "22000")
        #expect(get(model, component("EVSE", evse: 2), "Power", .maxSet)?.attributeValue == "7400")
        #expect(get(model, component("EVSE", evse: 2), "Power")?.attributeValue == "0")
        #expect(get(model, component("EVSE", evse: 1), "SupplyPhases")?.attributeValue == "3")
        #expect(get(model, component("Connector", evse: 1, connector: 1), "ConnectorType")?.attributeValue == "cType2")
        #expect(get(model, component("Connector", evse: 2, connector: 1), "ConnectorType")?.attributeValue == "sType2")
        #expect(get(model, component("Connector", evse: 2, connector: 1), "SupplyPhases")?.attributeValue == "1")
        #expect(get(model, component("Connector", evse: 2, connector: 1), "AvailabilityState")?.attributeValue == "Available")
        #expect(get(model, component("EVSE", evse: 3), "Power")?.attributeStatus == .unknownComponent)
        #expect(get(model, component("Connector", evse: 1, connector: 2), "ConnectorType")?.attributeStatus == .unknownComponent)
        #expect(get(model, component("ChargingStation"), "SupplyPhases")?.attributeValue == "3")

        let single = try openModel(freshStore(), layout: StationLayout(evses: [EVSELayout(evseId: 1, phases: 1)]))
        #expect(single.keys.filter { $0.component == "EVSE" }.count == 4)
        #expect(get(single, component("EVSE", evse: 1), "Power", .maxSet)?.attributeStatus == .notSupportedAttributeType,
                "no maximum power on the board: no MaxSet")
        #expect(get(single, component("Connector", evse: 1, connector: 1), "ConnectorType")?.attributeValue == "Unknown")
    }

    @Test func phases3to1FollowsThePhaseSwitchRelayAndThePhaseCannotBeChosen() throws {
        let withoutRelay = try openModel(freshStore())
        #expect(get(withoutRelay, component("SmartChargingCtrlr"), "Phases3to1")?.attributeValue == "false")
        let withRelay = try openModel(freshStore(), layout: StationLayout(evses: [EVSELayout(evseId: 1, canSwitchPhases: true),
                                                                                   EVSELayout(evseId: 2)]))
        #expect(get(withRelay, component("SmartChargingCtrlr"), "Phases3to1")?.attributeValue == "true")
        #expect(get(withRelay, component("SmartChargingCtrlr"), "ACPhaseSwitchingSupported")?.attributeValue == "false")
    }

    @Test func badLayoutIsRefusedAndNothingIsStored() throws {
        let store = try freshStore()
        let duplicate = StationLayout(evses: [EVSELayout(evseId: 1), EVSELayout(evseId: 1)])
        #expect(throws: DeviceModelError.invalidLayout("EVSE id 1 is listed twice")) { try openModel(store, layout: duplicate) }
        #expect(throws: DeviceModelError.self) { try openModel(store, layout: StationLayout(evses: [EVSELayout(evseId: 1, phases: 4)])) }
        #expect(try store.variables().isEmpty)
    }
}

@Suite struct GetVariablesTests {
    @Test func everyStatus() throws {
        let model = try openModel(freshStore())
        let response = model.getVariables(GetVariablesRequest(getVariableData: [
            .init(component: component("OCPPCommCtrlr"), variable: VariableType(name: "HeartbeatInterval")),
            .init(attributeType: .actual, component: component("TxCtrlr"), variable: VariableType(name: "TxStartPoint")),
            .init(component: component("NoSuchCtrlr"), variable: VariableType(name: "HeartbeatInterval")),
            .init(component: component("OCPPCommCtrlr"), variable: VariableType(name: "NoSuchVariable")),
            .init(attributeType: .target, component: component("OCPPCommCtrlr"), variable: VariableType(name: "HeartbeatInterval")),
            .init(component: component("SecurityCtrlr"), variable: VariableType(name: "BasicAuthPassword")),
            .init(component: component("DeviceDataCtrlr"), variable: VariableType(name: "ItemsPerMessage", instance: "Nope")),
        ]))
        let results = response.getVariableResult
        #expect(results.map(\.attributeStatus) == [.accepted, .accepted, .unknownComponent, .unknownVariable,
                                                     .notSupportedAttributeType, .rejected, .unknownVariable])
        #expect(results[0].attributeValue == "300")
        #expect(results[1].attributeValue == "PowerPathClosed")
        #expect(results[1].attributeType == .actual)
        #expect(results[2].attributeValue == nil)
        #expect(results[5].attributeValue == nil)
        #expect(results[5].attributeStatusInfo?.reasonCode == "WriteOnly")
        #expect(results[2].component == component("NoSuchCtrlr"), "the result names what was asked")
        #expect(throws: Never.self) { try response.validate() }
    }

    @Test func providedValuesAreReadWhenAsked() throws {
        let model = try openModel(freshStore())
        let now = Mutex("2026-12-05T08:00:00Z")
        model.provideActual(.dateTime) { now.locked { $0 } }
        #expect(get(model, component("ClockCtrlr"), "DateTime")?.attributeValue == "2026-12-05T08:00:00Z")
        now.locked { $0 = "2026-12-05T08:00:05Z" }
        #expect(model.value(.dateTime) == "2026-12-05T08:00:05Z")
    }
}

@Suite struct SetVariablesTests {
    @Test func acceptedValueIsReadBackAndSurvivesARestart() throws {
        let store = try freshStore()
        do {
            let model = try openModel(store)
            #expect(set(model, component("OCPPCommCtrlr"), "HeartbeatInterval", "120")?.attributeStatus == .accepted)
            #expect(set(model, component("TxCtrlr"), "TxStopPoint", "EVConnected")?.attributeStatus == .accepted)
            #expect(model.setActual(.securityProfile, "2"))
            #expect(model.setActual(.evsePower(evseId: 1), "7100.5"))
            #expect(model.value(.heartbeatInterval) == "120")
            #expect(model.value(.evsePower(evseId: 1)) == "7100.5")
        }
        let restarted = try openModel(store)
        #expect(get(restarted, component("OCPPCommCtrlr"), "HeartbeatInterval")?.attributeValue == "120")
        #expect(restarted.variables.heartbeatInterval == 120)
        #expect(restarted.variables.txStopPoint == ["EVConnected"])
        #expect(restarted.variables.securityProfile == 2, "the security profile reached is kept")
        #expect(restarted.value(.evsePower(evseId: 1)) == "0", "live power is not carried over a restart")
    }

    @Test func outOfRangeOrMalformedIsRejectedAndNothingIsStored() throws {
        let store = try freshStore()
        let model = try openModel(store)
        let cases: [(String, String, String, String)] = [
            ("OCPPCommCtrlr", "HeartbeatInterval", "0", "ValueOutOfRange"),
            ("OCPPCommCtrlr", "HeartbeatInterval", "86401", "ValueOutOfRange"),
            ("OCPPCommCtrlr", "HeartbeatInterval", "12s", "InvalidValue"),
            ("OCPPCommCtrlr", "HeartbeatInterval", "", "InvalidValue"),
            ("AuthCtrlr", "LocalPreAuthorize", "yes", "InvalidValue"),
            ("SmartChargingCtrlr", "LimitChangeSignificance", "1e3", "InvalidValue"),
            ("SmartChargingCtrlr", "LimitChangeSignificance", "100.5", "ValueOutOfRange"),
            ("TxCtrlr", "TxStartPoint", "DataSigned", "InvalidValue"),
            ("TxCtrlr", "TxStartPoint", "Authorized,Authorized", "InvalidValue"),
            ("AuthCacheCtrlr", "Policy", "CUSTOM", "InvalidValue"),
            ("ClockCtrlr", "TimeSource", "", "InvalidValue"),
            ("OCPPCommCtrlr", "NetworkConfigurationPriority", "1,x", "InvalidValue"),
            ("SecurityCtrlr", "BasicAuthPassword", "short", "ValueOutOfRange"),
            ("SecurityCtrlr", "OrganizationName", String(repeating: "o", count: 51), "ValueOutOfRange"),
        ]
        for (name, variable, value, reason) in cases {
            let result = set(model, component(name), variable, value)
            #expect(result?.attributeStatus == .rejected, "\(name).\(variable) = '\(value)'")
            #expect(result?.attributeStatusInfo?.reasonCode == reason, "\(name).\(variable) = '\(value)'")
        }
        #expect(model.value(.heartbeatInterval) == "300")
        #expect(model.variables.txStartPoint == ["PowerPathClosed"])
        #expect(model.variables.basicAuthPassword == "")
        let restarted = try openModel(store)
        #expect(restarted.variables == model.variables)
    }

    @Test func everyStatusAndOnlyValidItemsApplied() throws {
        let model = try openModel(freshStore())
        let response = model.setVariables(SetVariablesRequest(setVariableData: [
            .init(attributeValue: "60", component: component("OCPPCommCtrlr"), variable: VariableType(name: "HeartbeatInterval")),
            .init(attributeValue: "2,1", component: component("OCPPCommCtrlr"),
                  variable: VariableType(name: "NetworkConfigurationPriority")),
            .init(attributeValue: "Unavailable", component: component("EVSE", evse: 1),
                  variable: VariableType(name: "AvailabilityState")),
            .init(attributeValue: "1", component: component("Nowhere"), variable: VariableType(name: "HeartbeatInterval")),
            .init(attributeValue: "1", component: component("OCPPCommCtrlr"), variable: VariableType(name: "Nothing")),
            .init(attributeType: .maxSet, attributeValue: "1", component: component("OCPPCommCtrlr"),
                  variable: VariableType(name: "HeartbeatInterval")),
            .init(attributeValue: "-5", component: component("OCPPCommCtrlr"), variable: VariableType(name: "OfflineThreshold")),
        ]))
        let results = response.setVariableResult
        #expect(results.map(\.attributeStatus) == [.accepted, .rebootRequired, .rejected, .unknownComponent,
                                                     .unknownVariable, .notSupportedAttributeType, .rejected])
        #expect(results[2].attributeStatusInfo?.reasonCode == "ReadOnly")
        #expect(results[6].attributeStatusInfo?.reasonCode == "ValueOutOfRange")
        #expect(results[5].attributeType == .maxSet)
        #expect(model.variables.heartbeatInterval == 60)
        #expect(model.variables.networkConfigurationPriority == [2, 1], "stored now, used at the next boot")
        #expect(model.value(.evseAvailabilityState(evseId: 1)) == "Available")
        #expect(model.variables.offlineThreshold == 60)
        #expect(throws: Never.self) { try response.validate() }
    }

    @Test func writeOnlyPasswordGoesToItsKeeperNeverToTheDatabaseAndIsNeverReadable() throws {
        let store = try freshStore()
        let model = try openModel(store)
        #expect(set(model, component("SecurityCtrlr"), "BasicAuthPassword", "0123456789abcdefXYZ")?.attributeStatus == .rejected,
                "without a keeper the station cannot store it")
        let kept = Mutex<[String]>([])
        let heard = Mutex<[String]>([])
        model.keepSecret(.basicAuthPassword) { value in kept.locked { $0.append(value) } }
        model.onChange { key, value in heard.locked { $0.append("\(key.variable)=\(value)") } }
        #expect(set(model, component("SecurityCtrlr"), "BasicAuthPassword", "short")?.attributeStatus == .rejected)
        #expect(set(model, component("SecurityCtrlr"), "BasicAuthPassword", "0123456789abcdefXYZ")?.attributeStatus == .accepted)
        #expect(kept.locked { $0 } == ["0123456789abcdefXYZ"], "only the valid one reaches the keeper")
        #expect(heard.locked { $0 } == ["BasicAuthPassword="], "the handlers hear of the change, not the value")
        #expect(get(model, component("SecurityCtrlr"), "BasicAuthPassword")?.attributeStatus == .rejected)
        #expect(get(model, component("SecurityCtrlr"), "BasicAuthPassword")?.attributeValue == nil)
        let (_, pages) = model.baseReport(GetBaseReportRequest(requestId: 1, reportBase: .fullInventory), generatedAt: reportTime)
        let reported = pages.flatMap { $0.reportData ?? [] }.first { $0.variable.name == "BasicAuthPassword" }
        #expect(reported?.variableAttribute.first?.mutability == .writeOnly)
        #expect(reported?.variableAttribute.first?.value == nil)
        #expect(model.value(.basicAuthPassword) == "", "not held in memory")
        #expect(try openModel(store).variables.basicAuthPassword == "", "not in the database")
        struct DiskFull: Error {}
        model.keepSecret(.basicAuthPassword) { _ in throw DiskFull() }
        let failed = set(model, component("SecurityCtrlr"), "BasicAuthPassword", "0123456789abcdefXYZ")
        #expect(failed?.attributeStatus == .rejected && failed?.attributeStatusInfo?.reasonCode == "InternalError")
    }

    @Test func changeHandlersHearChangedActualValuesOnly() throws {
        let model = try openModel(freshStore())
        let heard = Mutex<[String]>([])
        model.onChange { key, value in heard.locked { $0.append("\(key.variable)=\(value)") } }
        _ = set(model, component("OCPPCommCtrlr"), "HeartbeatInterval", "30")
        _ = set(model, component("OCPPCommCtrlr"), "HeartbeatInterval", "30")  // unchanged
        _ = set(model, component("OCPPCommCtrlr"), "HeartbeatInterval", "0")  // rejected
        _ = set(model, component("AuthCtrlr"), "LocalPreAuthorize", "TRUE")
        #expect(heard.locked { $0 } == ["HeartbeatInterval=30", "LocalPreAuthorize=true"])
    }

    @Test func aFailedWriteRejectsTheRequestAndChangesNothing() throws {
        let path = try scratchDatabasePath()
        let database = try Database(path: path)
        let model = try openModel(StationStorage(database: database).deviceModel)
        database.close()
        let result = set(model, component("OCPPCommCtrlr"), "HeartbeatInterval", "45")
        #expect(result?.attributeStatus == .rejected)
        #expect(result?.attributeStatusInfo?.reasonCode == "InternalError")
        #expect(model.setActual(.securityProfile, "3") == false)
        // Settings are read from the table, so a table that cannot be read is answered as such,
        // never with a value made up from memory.
        let read = get(model, component("OCPPCommCtrlr"), "HeartbeatInterval")
        #expect(read?.attributeStatus == .rejected)
        #expect(read?.attributeStatusInfo?.reasonCode == "InternalError")
        #expect(model.value(.heartbeatInterval) == nil)
        let reopened = try openModel(StationStorage(database: Database(path: path)).deviceModel)
        #expect(reopened.value(.heartbeatInterval) == "300")
        #expect(reopened.variables.securityProfile == 1)
    }

    @Test func settingsAreReadFromTheTableNotFromACopyInMemory() throws {
        let database = try Database.inMemory()
        let model = try openModel(StationStorage(database: database).deviceModel)
        #expect(set(model, component("OCPPCommCtrlr"), "HeartbeatInterval", "45")?.attributeStatus == .accepted)
        // Whatever the table says is the answer: the device model keeps no second copy that
        // could disagree with it (a restore of the database, the sqlite3 shell).
        try database.withConnection { c in
            try c.execute("""
                UPDATE device_variable_attributes SET value = '77' WHERE type = 'Actual' AND variable_id =
                  (SELECT id FROM device_variables WHERE component = 'OCPPCommCtrlr' AND variable = 'HeartbeatInterval')
                """)
        }
        #expect(get(model, component("OCPPCommCtrlr"), "HeartbeatInterval")?.attributeValue == "77")
        #expect(model.variables.heartbeatInterval == 77)
        // Station state that is not persistent lives in memory only; the table keeps its start value.
        #expect(model.setActual(.evsePower(evseId: 1), "11000"))
        #expect(get(model, component("EVSE", evse: 1), "Power")?.attributeValue == "11000")
        let storedPower = try database.withConnection { c in
            try c.queryFirst("""
                SELECT a.value FROM device_variable_attributes a JOIN device_variables v ON v.id = a.variable_id
                WHERE v.component = 'EVSE' AND v.evse_id = 1 AND v.variable = 'Power' AND a.type = 'Actual'
                """) { try $0.stringOrNil(0) }
        }
        #expect(storedPower == "0")
    }

    @Test func setActualChecksTheValue() throws {
        let model = try openModel(freshStore())
        #expect(model.setActual(.connectorAvailabilityState(evseId: 2, connectorId: 1), "Occupied"))
        #expect(model.setActual(.connectorAvailabilityState(evseId: 2, connectorId: 1), "Charging") == false)
        #expect(model.setActual(.evsePower(evseId: 1), "23000") == false, "above the EVSE's maximum")
        #expect(model.setActual(.evsePower(evseId: 9), "1") == false)
        #expect(model.value(.connectorAvailabilityState(evseId: 2, connectorId: 1)) == "Occupied")
    }
}

@Suite struct RestartAndUpgradeTests {
    @Test func upgradeAddsNewVariablesKeepsSettingsAndRefreshesFirmwareValues() throws {
        let database = try Database.inMemory()
        let store = try StationStorage(database: database).deviceModel
        do {
            let model = try openModel(store)
            _ = set(model, component("OCPPCommCtrlr"), "HeartbeatInterval", "90")
            _ = set(model, component("TxCtrlr"), "StopTxOnInvalidId", "false")
        }
        // What an older firmware left: no MaxEnergyOnInvalidId yet, and its own version string.
        try database.execute("DELETE FROM device_variables WHERE variable = 'MaxEnergyOnInvalidId'")
        try database.execute("""
            UPDATE device_variable_attributes SET value = '0.9.0' WHERE variable_id =
              (SELECT id FROM device_variables WHERE component = 'ChargingStation' AND variable = 'FirmwareVersion')
            """)
        var newer = testIdentity
        newer.firmwareVersion = "1.1.0"
        let upgraded = try openModel(store, identity: newer)
        #expect(upgraded.variables.heartbeatInterval == 90)
        #expect(upgraded.variables.stopTxOnInvalidId == false)
        #expect(upgraded.value(VariableKey(component: "TxCtrlr", variable: "MaxEnergyOnInvalidId")) == "0")
        #expect(upgraded.value(VariableKey(component: "ChargingStation", variable: "FirmwareVersion")) == "1.1.0")
        #expect(try store.variables().contains { $0.key.variable == "MaxEnergyOnInvalidId" })
    }

    @Test func aStoredValueTheNewCatalogueRefusesFallsBackToTheDefault() throws {
        let database = try Database.inMemory()
        let store = try StationStorage(database: database).deviceModel
        _ = try openModel(store)
        try database.execute("""
            UPDATE device_variable_attributes SET value = 'DataSigned' WHERE variable_id =
              (SELECT id FROM device_variables WHERE component = 'TxCtrlr' AND variable = 'TxStartPoint')
            """)
        #expect(try openModel(store).variables.txStartPoint == ["PowerPathClosed"])
    }

    @Test func anEVSERemovedFromTheBoardLeavesTheModel() throws {
        let store = try freshStore()
        _ = try openModel(store)
        let oneEVSE = StationLayout(evses: [twoEVSELayout.evses[0]])
        let model = try openModel(store, layout: oneEVSE)
        #expect(get(model, component("EVSE", evse: 2), "Power")?.attributeStatus == .unknownComponent)
        #expect(try !store.variables().contains { $0.key.evseId == 2 })
    }

    @Test func initialValuesSeedTheFirstStartOnly() throws {
        let store = try freshStore()
        let first = try openModel(store, initialValues: [.heartbeatInterval: "45", .securityProfile: "2"])
        #expect(first.variables.heartbeatInterval == 45)
        #expect(first.variables.securityProfile == 2)
        _ = set(first, component("OCPPCommCtrlr"), "HeartbeatInterval", "50")
        let second = try openModel(store, initialValues: [.heartbeatInterval: "45"])
        #expect(second.variables.heartbeatInterval == 50)
        #expect(throws: DeviceModelError.self) { try openModel(freshStore(), initialValues: [.heartbeatInterval: "0"]) }
        #expect(throws: DeviceModelError.self) {
            try openModel(freshStore(), initialValues: [VariableKey(component: "ChargingStation", variable: "Model"): "X"])
        }
    }
}

@Suite struct LimitTests {
    @Test func tooManyItemsOrBytesNameTheCallError() throws {
        let model = try openModel(freshStore())
        let item = GetVariablesRequest.GetVariableDataType(component: component("OCPPCommCtrlr"),
                                                           variable: VariableType(name: "HeartbeatInterval"))
        #expect(model.limitsExceeded(GetVariablesRequest(getVariableData: Array(repeating: item, count: 50))) == nil)
        let tooMany = model.limitsExceeded(GetVariablesRequest(getVariableData: Array(repeating: item, count: 51)))
        #expect(tooMany == .tooManyItems(count: 51, limit: 50))
        #expect(tooMany?.callErrorCode == "OccurrenceConstraintViolation")
        let big = model.limitsExceeded(GetVariablesRequest(getVariableData: [item]), messageBytes: 70_000)
        #expect(big == .tooManyBytes(count: 70_000, limit: 65_536))
        #expect(big?.callErrorCode == "FormatViolation")

        let setItem = SetVariablesRequest.SetVariableDataType(attributeValue: "1", component: component("A"),
                                                              variable: VariableType(name: "B"))
        #expect(model.limitsExceeded(SetVariablesRequest(setVariableData: Array(repeating: setItem, count: 51)))
            == .tooManyItems(count: 51, limit: 50))
        #expect(model.setActual(VariableKey(component: "DeviceDataCtrlr", variable: "BytesPerMessage",
                                            variableInstance: "SetVariables"), "100"))
        #expect(model.limitsExceeded(SetVariablesRequest(setVariableData: Array(repeating: setItem, count: 3)))?
            .callErrorCode == "FormatViolation", "the payload's own size when the frame size is not given")

        let filter = ComponentVariableType(component: component("EVSE"))
        #expect(model.limitsExceeded(GetReportRequest(componentVariable: Array(repeating: filter, count: 101), requestId: 1))
            == .tooManyItems(count: 101, limit: 100))
    }
}

@Suite struct VersionSwitchTests {
    @Test func aStationComingFromOCPP16KeepsItsSettings() throws {
        let store = try freshStore()
        let initial = DeviceModel.initialValues(fromOCPP16: ["HeartbeatInterval": "600", "MeterValueSampleInterval": "30",
                                                             "LocalPreAuthorize": "true"], layout: twoEVSELayout)
        let model = try openModel(store, initialValues: initial)
        #expect(model.variables.heartbeatInterval == 600)
        #expect(model.variables.sampledData.txUpdatedInterval == 30)
        #expect(model.variables.localPreAuthorize)
    }
}

@Suite struct StationChecksTests {
    @Test func theStationCanRefuseWhatOnlyItKnows() throws {
        let model = try openModel(freshStore())
        let slotsWithProfile: Set<Int> = [1, 2]
        model.validateSetting(.networkConfigurationPriority) { value in
            let missing = value.split(separator: ",").compactMap { Int($0) }.filter { !slotsWithProfile.contains($0) }
            return missing.isEmpty ? nil : "no network profile in slot \(missing[0])"
        }
        let refused = set(model, component("OCPPCommCtrlr"), "NetworkConfigurationPriority", "3,1")
        #expect(refused?.attributeStatus == .rejected)
        #expect(refused?.attributeStatusInfo == StatusInfoType(reasonCode: "InvalidValue", additionalInfo: "no network profile in slot 3"))
        #expect(set(model, component("OCPPCommCtrlr"), "NetworkConfigurationPriority", "2,1")?.attributeStatus == .rebootRequired)
        #expect(model.variables.networkConfigurationPriority == [2, 1])
    }
}
