import OCPP201Messages

/// Remote control (block F): the CSMS starts and stops transactions, unlocks connectors and
/// asks for messages; the station's core decides, this translates.
enum RemoteControlService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(RequestStartTransactionRequest.self) { station, request in await station.requestStartTransaction(request) }
        registry.register(RequestStopTransactionRequest.self) { station, request in await station.requestStopTransaction(request) }
        registry.register(UnlockConnectorRequest.self) { station, request in await station.unlockConnector(request) }
        registry.registerAnswering(TriggerMessageRequest.self) { station, request in await station.triggerMessage(request) }
    }
}
