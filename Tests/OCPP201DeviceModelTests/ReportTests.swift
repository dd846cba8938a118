import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import Testing

@Suite struct ReportTests {
    static let itemsPerReport = VariableKey(component: "DeviceDataCtrlr", variable: "ItemsPerMessage",
                                            variableInstance: "GetReport")
    static let bytesPerReport = VariableKey(component: "DeviceDataCtrlr", variable: "BytesPerMessage",
                                            variableInstance: "GetReport")

    @Test func fullInventoryIsPagedBySeqNoAndTbc() throws {
        let model = try openModel(freshStore())
        #expect(model.setActual(Self.itemsPerReport, "7"))
        let (response, pages) = model.baseReport(GetBaseReportRequest(requestId: 42, reportBase: .fullInventory),
                                                 generatedAt: reportTime)
        #expect(response.status == .accepted)
        let total = model.keys.count
        #expect(pages.count == (total + 6) / 7)
        #expect(pages.map(\.seqNo) == Array(0..<pages.count))
        #expect(pages.dropLast().allSatisfy { $0.tbc == true })
        #expect(pages.last?.tbc == false)
        #expect(pages.allSatisfy { $0.requestId == 42 && $0.generatedAt == reportTime })
        #expect(pages.allSatisfy { ($0.reportData?.count ?? 0) <= 7 })
        let reported = pages.flatMap { $0.reportData ?? [] }
        #expect(reported.map { VariableKey(component: $0.component, variable: $0.variable) } == model.keys)
        for page in pages { #expect(throws: Never.self) { try page.validate() } }
    }

    @Test func pagesStayWithinBytesPerMessage() throws {
        let model = try openModel(freshStore())
        #expect(model.setActual(Self.bytesPerReport, "2000"))
        let (_, pages) = model.baseReport(GetBaseReportRequest(requestId: 1, reportBase: .fullInventory), generatedAt: reportTime)
        #expect(pages.count > 5)
        for page in pages {
            // The whole frame: payload plus `[2,"<36-character id>","NotifyReport",]`.
            let frameBytes = JSONWriter.write(page.toJSON()).count + 56
            #expect(frameBytes <= 2000 || page.reportData?.count == 1, "page \(page.seqNo): \(frameBytes) bytes")
        }
        #expect(pages.flatMap { $0.reportData ?? [] }.count == model.keys.count)
    }

    @Test func oneSmallReportIsOnePageWithoutMore() throws {
        let model = try openModel(freshStore())
        let (response, pages) = model.report(GetReportRequest(componentVariable: [
            ComponentVariableType(component: component("EVSE", evse: 1), variable: VariableType(name: "Power")),
        ], requestId: 3), generatedAt: reportTime)
        #expect(response.status == .accepted)
        #expect(pages.count == 1)
        #expect(pages.first?.seqNo == 0)
        #expect(pages.first?.tbc == false)
        let power = try #require(pages.first?.reportData?.first)
        #expect(power.variableAttribute.map(\.type) == [.actual, .maxSet])
        #expect(power.variableAttribute.map(\.value) == ["0", "22000"])
        #expect(power.variableAttribute.map(\.mutability) == [.readOnly, .readOnly])
        #expect(power.variableAttribute.map(\.persistent) == [false, true])
        #expect(power.variableAttribute.map(\.constant) == [false, true])
        #expect(power.variableCharacteristics?.unit == "W")
        #expect(power.variableCharacteristics?.maxLimit == 22_000)
        #expect(power.variableCharacteristics?.dataType == .decimal)
    }

    @Test func configurationInventoryListsWhatTheCSMSCanSet() throws {
        let model = try openModel(freshStore())
        let (_, pages) = model.baseReport(GetBaseReportRequest(requestId: 1, reportBase: .configurationInventory),
                                          generatedAt: reportTime)
        let reported = pages.flatMap { $0.reportData ?? [] }
        #expect(reported.allSatisfy { data in data.variableAttribute.contains { $0.mutability != .readOnly } })
        let names = Set(reported.map { "\($0.component.name).\($0.variable.name)" })
        #expect(names.isSuperset(of: ["OCPPCommCtrlr.HeartbeatInterval", "TxCtrlr.TxStartPoint", "SecurityCtrlr.BasicAuthPassword"]))
        #expect(!names.contains("EVSE.Power"))
        #expect(!names.contains("ChargingStation.VendorName"))
    }

    @Test func summaryInventoryListsAvailabilityAndProblems() throws {
        let model = try openModel(freshStore())
        #expect(model.setActual(.evseAvailabilityState(evseId: 2), "Faulted"))
        let (_, pages) = model.baseReport(GetBaseReportRequest(requestId: 1, reportBase: .summaryInventory),
                                          generatedAt: reportTime)
        let reported = pages.flatMap { $0.reportData ?? [] }
        #expect(Set(reported.map(\.variable.name)).isSubset(of: ["AvailabilityState", "Available", "Problem"]))
        #expect(reported.filter { $0.variable.name == "AvailabilityState" }.count == 5, "station, 2 EVSEs, 2 connectors")
        let evse2 = reported.first { $0.component.name == "EVSE" && $0.component.evse?.id == 2 && $0.variable.name == "AvailabilityState" }
        #expect(evse2?.variableAttribute.first?.value == "Faulted")
    }

    @Test func componentCriteriaAndFilters() throws {
        let model = try openModel(freshStore())
        func names(_ request: GetReportRequest) -> (GenericDeviceModelStatusEnumType, [String]) {
            let (response, pages) = model.report(request, generatedAt: reportTime)
            return (response.status, pages.flatMap { $0.reportData ?? [] }.map { data in
                data.component.name + (data.component.evse.map { "[\($0.id)]" } ?? "") + "." + data.variable.name
            })
        }
        // Nothing has a problem yet; then the station reports one.
        #expect(names(GetReportRequest(requestId: 1, componentCriteria: [.problem])).0 == .emptyResultSet)
        #expect(model.setActual(.stationProblem, "true"))
        let (status, problem) = names(GetReportRequest(requestId: 1, componentCriteria: [.problem]))
        #expect(status == .accepted)
        #expect(!problem.isEmpty && problem.allSatisfy { $0.hasPrefix("ChargingStation.") })

        // Available components match Available; the variables of an unavailable one would not.
        let (_, available) = names(GetReportRequest(requestId: 2, componentCriteria: [.available]))
        #expect(available.contains("SmartChargingCtrlr.Enabled"))
        #expect(available.contains("DisplayMessageCtrlr.Enabled"))

        // Criteria and component filters together: both must hold.
        let (_, enabledTx) = names(GetReportRequest(componentVariable: [ComponentVariableType(component: component("TxCtrlr"))],
                                                    requestId: 3, componentCriteria: [.enabled]))
        #expect(enabledTx.isEmpty, "TxCtrlr has no Enabled variable")

        // A component named without an EVSE matches every EVSE.
        let (_, power) = names(GetReportRequest(componentVariable: [
            ComponentVariableType(component: component("EVSE"), variable: VariableType(name: "Power")),
        ], requestId: 4))
        #expect(power == ["EVSE[1].Power", "EVSE[2].Power"])
        let (_, limits) = names(GetReportRequest(componentVariable: [
            ComponentVariableType(component: component("DeviceDataCtrlr"), variable: VariableType(name: "ItemsPerMessage")),
        ], requestId: 5))
        #expect(limits.count == 3)

        #expect(names(GetReportRequest(componentVariable: [ComponentVariableType(component: component("Nope"))],
                                       requestId: 6)).0 == .emptyResultSet)
        let (unsupported, pages) = model.report(GetReportRequest(requestId: 7, componentCriteria: [.active]),
                                                generatedAt: reportTime)
        #expect(unsupported.status == .notSupported)
        #expect(pages.isEmpty)
    }
}
