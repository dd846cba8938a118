import ChargingCore
import OCPP201Messages
import StationPort

/// Authorize (C01): the station asks for a token it cannot decide locally. The CSMS is asked
/// while it can be; otherwise (or when it does not answer) the station hears "no answer" and
/// applies its offline rules (LocalAuthorizeOffline, OfflineTxForUnknownIdEnabled).
extension OCPP201ChargingStation {
    func authorizeForStation(_ token: IdToken) async {
        guard mayInitiate else {
            station.submit(.authorizationResult(token, nil))
            return
        }
        do {
            let answer = try await send(AuthorizeRequest(idToken: OCPP201Terms.idTokenType(token)))
            // The tariff first: the screen that follows the authorization shows it.
            showTariff(token: token.value, answer.idTokenInfo)
            station.submit(.authorizationResult(token, OCPP201Terms.authorizationInfo(answer.idTokenInfo)))
        } catch {
            logger.warning("Authorize \(token): \(error)")
            station.submit(.authorizationResult(token, nil))
        }
    }
}
