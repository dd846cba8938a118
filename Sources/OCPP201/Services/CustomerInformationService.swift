import OCPP201Messages
import OCPPJSON
import OCPPTransport
import Storage

/// Functional block N's CustomerInformation (N09, N10): what the station holds for an idToken
/// — its local-list entry, its authorization-cache entry, its transactions in the session
/// journal — reported as NotifyCustomerInformation pages after the answer, and its cache entry
/// cleared on request. The local list is the CSMS's (it changes it with SendLocalList) and the
/// transactions are billing records, so a clear leaves them; the report says so. The station
/// holds no customer certificates, and knows customers only by idToken.
enum CustomerInformationService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.registerAnswering(CustomerInformationRequest.self) { station, request in station.customerInformation(request) }
    }

    /// NotifyCustomerInformation.data is string[0..512].
    static let pageSize = 512
    /// How many of the latest transactions are searched for the token.
    static let sessionsSearched = 1_000
}

extension OCPP201ChargingStation {
    func customerInformation(_ request: CustomerInformationRequest) -> OCPPCallAnswer {
        func answer(_ status: CustomerInformationResponse.CustomerInformationStatusEnumType, _ info: StatusInfoType? = nil,
                    then: OCPPCallAnswer.FollowUp? = nil) -> OCPPCallAnswer {
            OCPPCallAnswer(.success(CustomerInformationResponse(status: status, statusInfo: info).toJSON()), afterReply: then)
        }
        guard request.report || request.clear else {
            return answer(.invalid, OCPP201Terms.statusInfo("NothingRequested", "neither report nor clear"))
        }
        guard request.idToken != nil || request.customerCertificate != nil || request.customerIdentifier != nil else {
            return answer(.invalid, OCPP201Terms.statusInfo("NoCustomer", "no idToken, customerCertificate or customerIdentifier"))
        }
        var lines: [String] = []
        if let token = request.idToken?.idToken {
            lines = customerData(token)
            if request.clear {
                do {
                    let removed = try authorizationCache.remove(token)
                    lines.append("cleared: authorization cache entry \(removed ? "removed" : "(none)"); local list and transactions kept")
                    logger.notice("CustomerInformation \(request.requestId): cache entry \(removed ? "removed" : "absent")")
                } catch {
                    logger.error("CustomerInformation \(request.requestId): cannot clear the cache entry: \(error)")
                    return answer(.rejected, OCPP201Terms.statusInfo("InternalError", "\(error)"))
                }
            }
        } else {
            lines = ["no data: this station knows customers by idToken only"]
        }
        guard request.report else { return answer(.accepted) }
        let pages = Self.customerPages(lines, requestId: request.requestId, generatedAt: OCPPTimestamp.string(unixMs: unixMs()))
        return answer(.accepted) { await self.sendPages(pages) }
    }

    /// What the station holds for `token`, one line per item.
    func customerData(_ token: String) -> [String] {
        var lines: [String] = []
        func time(_ ms: Int64) -> String { OCPPTimestamp.string(unixMs: UInt64(max(0, ms))) }
        if let entry = try? localList.lookup(token) {
            lines.append("local list: \(entry.status.rawValue)\(entry.expiresAt.map { " until \(time($0 * 1_000))" } ?? "")"
                + "\(entry.parentIdToken.map { " group \($0)" } ?? "")")
        }
        // Read without a lookup: a report must not make the entry recently used (the cache's LRU order).
        if let lastUsed = (try? authorizationCache.lastUsed(token)) ?? nil {
            lines.append("authorization cache: an entry, last used \(time(lastUsed * 1_000))")
        }
        let sessions = ((try? transactions.journal.recentSessions(limit: CustomerInformationService.sessionsSearched)) ?? [])
            .filter { $0.idToken == token }
        for s in sessions {
            let energy = s.meterStopWh.map { String(Int(($0 - s.meterStartWh).rounded())) + " Wh" } ?? "running"
            lines.append("transaction \(s.transactionId ?? s.id): EVSE \(s.connectorId), started \(time(s.startedAtMs)), \(energy)")
        }
        return lines.isEmpty ? ["no data held for this idToken"] : lines
    }

    /// `lines` cut into pages of at most 512 characters, seqNo 0, 1, … with tbc on all but the last.
    public static func customerPages(_ lines: [String], requestId: Int, generatedAt: String) -> [NotifyCustomerInformationRequest] {
        var texts: [String] = []
        var current = ""
        for line in lines {
            for piece in stride(from: 0, to: max(1, line.count), by: CustomerInformationService.pageSize).map({
                String(line.dropFirst($0).prefix(CustomerInformationService.pageSize))
            }) {
                let joined = current.isEmpty ? piece : current + "\n" + piece
                if joined.count <= CustomerInformationService.pageSize {
                    current = joined
                } else {
                    texts.append(current)
                    current = piece
                }
            }
        }
        texts.append(current)
        return texts.enumerated().map { i, text in
            NotifyCustomerInformationRequest(data: text, tbc: i < texts.count - 1 ? true : nil, seqNo: i, generatedAt: generatedAt,
                                             requestId: requestId)
        }
    }
}
