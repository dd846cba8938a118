import ChargingCore
import OCPP201Messages
import StationPort

/// Reservation (block H): the core's connector state machine holds the reservation (its status
/// becomes Reserved, expiry ends it, only the reserved token or its group starts); this turns
/// ReserveNow / CancelReservation into the station's reserve and cancel, and the end of a
/// reservation that was not used into ReservationStatusUpdate (Expired, Removed).
enum ReservationService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(ReserveNowRequest.self) { station, request in await station.reserveNow(request) }
        registry.register(CancelReservationRequest.self) { station, request in await station.cancelReservation(request) }
    }
}

extension OCPP201ChargingStation {
    /// The core ended a reservation: the CSMS hears of one that expired or that the station
    /// removed (its EVSE went unavailable or faulted); a used or cancelled one needs no word.
    func reservationEnded(id: Int, _ reason: ReservationEndReason) {
        let status: ReservationStatusUpdateRequest.ReservationUpdateStatusEnumType
        switch reason {
        case .expired: status = .expired
        case .unavailable, .faulted: status = .removed
        case .used, .cancelled: return
        }
        guard mayInitiate else { return }
        Task {
            do { _ = try await send(ReservationStatusUpdateRequest(reservationId: id, reservationUpdateStatus: status)) } catch {
                logger.info("ReservationStatusUpdate \(id): \(error)")
            }
        }
    }
}
