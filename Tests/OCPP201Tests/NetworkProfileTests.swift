import Foundation
import OCPP201
import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import Storage
import Testing
import TestSupport

/// Block B's SetNetworkProfile: every status, the slots persisted, NetworkConfigurationPriority
/// naming only slots with a profile, the endpoints in priority order, and a security profile
/// that is raised by a connection and never lowered.
@Suite("OCPP 2.0.1 network profiles (B09, B10)")
struct NetworkProfileTests {
    static func profile(_ url: String, security: Int = 0, version: String = "OCPP20") -> JSONValue {
        ["ocppVersion": .string(version), "ocppTransport": "JSON", "ocppCsmsUrl": .string(url), "messageTimeout": 25,
         "securityProfile": .integer(Int64(security)), "ocppInterface": "Wired0"]
    }

    static func set(_ h: Harness, slot: Int, _ data: JSONValue) async throws -> JSONValue {
        try await h.chargingStation.handle(action: "SetNetworkProfile",
                                           payload: ["configurationSlot": .integer(Int64(slot)), "connectionData": data]).get()
    }

    @Test func aValidProfileIsStoredAndEachInvalidOneRejectedWithItsReason() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let h = try await Harness.accepted(storage: storage, securityProfile: 1)
        let ok = try await Self.set(h, slot: 2, Self.profile("ws://backup.example:9000/ocpp", security: 1))
        #expect(ok["status"] == "Accepted")
        #expect(h.chargingStation.networkProfiles.profile(slot: 2)?.ocppCsmsUrl == "ws://backup.example:9000/ocpp")
        #expect(NetworkProfileStore(store: storage.config).profile(slot: 2)?.messageTimeout == 25, "persisted")
        for (slot, data, reason) in [
            (3, Self.profile("ws://a.example/ocpp", security: 0), "LowerSecurity"),
            (3, Self.profile("http://a.example/ocpp", security: 1), "InvalidURL"),
            (3, Self.profile("wss://a.example/ocpp", security: 1), "InvalidURL"),
            (3, Self.profile("ws://a.example/ocpp", security: 1, version: "OCPP16"), "UnsupportedVersion"),
            (12, Self.profile("ws://a.example/ocpp", security: 1), "InvalidSlot"),
            (3, Self.profile("wss://a.example/ocpp", security: 2), "MissingPrerequisite"),
        ] as [(Int, JSONValue, String)] {
            let answer = try await Self.set(h, slot: slot, data)
            #expect(answer["status"] == "Rejected" && answer["statusInfo"]?["reasonCode"] == .string(reason), "\(reason): \(answer)")
        }
        #expect(h.chargingStation.networkProfiles.profile(slot: 3) == nil, "nothing stored for a rejected one")
        let malformed = await h.chargingStation.handle(action: "SetNetworkProfile", payload: ["configurationSlot": 1])
        guard case .failure = malformed else { Issue.record("a profile without connectionData is a CALLERROR"); return }
    }

    @Test func thePriorityNamesOnlySlotsWithAProfileAndTheEndpointsFollowIt() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let model = try DeviceModelWiringTests.model(storage)
        let h = try await Harness.accepted(storage: storage, deviceModel: model)
        func priority(_ value: String) async throws -> JSONValue? {
            try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
                ["attributeValue": .string(value), "component": ["name": "OCPPCommCtrlr"],
                 "variable": ["name": "NetworkConfigurationPriority"]]]]).get()["setVariableResult"]?[0]?["attributeStatus"]
        }
        #expect(try await priority("2,1") == "Rejected", "slot 2 holds no profile yet")
        #expect(try await Self.set(h, slot: 2, Self.profile("ws://backup.example/ocpp"))["status"] == "Accepted")
        #expect(try await priority("2,1") == "RebootRequired", "used from the next boot on")
        let provisioned = OCPP201Endpoint(slot: 1, url: "ws://station-file.example/ocpp", securityProfile: .unsecured)
        let endpoints = h.chargingStation.networkProfiles.endpoints(priority: model.variables.networkConfigurationPriority,
                                                                      provisioned: provisioned)
        #expect(endpoints.map(\.slot) == [2, 1])
        #expect(endpoints.map(\.url) == ["ws://backup.example/ocpp", "ws://station-file.example/ocpp"])
        #expect(h.chargingStation.networkProfiles.endpoints(priority: [5], provisioned: provisioned) == [provisioned],
                "with no usable slot the station file's backend is still there")
        #expect(h.chargingStation.networkProfiles.endpoints(priority: [2, 1], provisioned: provisioned, minimumSecurityProfile: 2)
                == [provisioned], "below the raised profile nothing is tried, but the station file's backend stays")
    }

    @Test func aConnectionOnAHigherProfileRaisesItAndNothingLowersIt() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let model = try DeviceModelWiringTests.model(storage)
        let h = try await Harness.accepted(storage: storage, deviceModel: model, securityProfile: 1)
        await h.chargingStation.connected(on: OCPP201Endpoint(slot: 2, url: "wss://x.example/ocpp", securityProfile: .tlsWithBasicAuth))
        #expect(await h.chargingStation.securityProfile == 2)
        #expect(model.value(.securityProfile) == "2" && model.value(.activeNetworkProfile) == "2")
        await h.chargingStation.connected(on: OCPP201Endpoint(slot: 1, url: "ws://y.example/ocpp", securityProfile: .basicAuth))
        #expect(await h.chargingStation.securityProfile == 2, "a fallback slot with a lower profile does not lower it")
        #expect(model.value(.activeNetworkProfile) == "1")
        let lower = try await Self.set(h, slot: 4, Self.profile("ws://z.example/ocpp", security: 1))
        #expect(lower["status"] == "Rejected")
    }
}
