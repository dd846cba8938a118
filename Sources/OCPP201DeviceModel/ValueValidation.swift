import OCPP201Messages
import OCPPJSON

/// Why a value does not fit a variable: the `reasonCode` SetVariables answers with, and a line
/// for a person (`additionalInfo`).
struct ValueRejection: Error, Equatable, Sendable {
    var reasonCode: String
    var detail: String

    static func invalid(_ detail: String) -> ValueRejection { ValueRejection(reasonCode: "InvalidValue", detail: detail) }
    static func outOfRange(_ detail: String) -> ValueRejection { ValueRejection(reasonCode: "ValueOutOfRange", detail: detail) }

    var statusInfo: StatusInfoType {
        // additionalInfo is at most 512 characters in the schema.
        StatusInfoType(reasonCode: reasonCode, additionalInfo: String(detail.prefix(512)))
    }
}

extension Characteristics {
    /// Checks `text` against the data type, limits and values list; returns the value as it is
    /// stored (booleans in lower case), or why it is refused.
    func validate(_ text: String) -> Result<String, ValueRejection> {
        switch dataType {
        case .integer:
            guard let value = Int64(text), !text.hasPrefix("+") else {
                return .failure(.invalid("'\(text)' is not an integer"))
            }
            return checkRange(Double(value), text: text).map { String(value) }
        case .decimal:
            guard Self.isDecimal(text), let value = Double(text), value.isFinite else {
                return .failure(.invalid("'\(text)' is not a decimal number"))
            }
            return checkRange(value, text: text).map { text }
        case .boolean:
            switch text.lowercased() {
            case "true": return .success("true")
            case "false": return .success("false")
            default: return .failure(.invalid("'\(text)' is not true or false"))
            }
        case .dateTime:
            do {
                _ = try PayloadField.dateTime(.string(text), path: "")
                return .success(text)
            } catch {
                return .failure(.invalid("'\(text)' is not an RFC 3339 date-time"))
            }
        case .string:
            return checkLength(text).map { text }
        case .optionList:
            if let allowed = allowedValues, !allowed.contains(text) {
                return .failure(.invalid("'\(text)' is not one of \(valuesList ?? "")"))
            }
            return checkLength(text).map { text }
        case .memberList, .sequenceList:
            let items = text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var seen: Set<String> = []
            for item in items {
                if item.isEmpty { return .failure(.invalid("'\(text)' has an empty item")) }
                if let allowed = allowedValues, !allowed.contains(item) {
                    return .failure(.invalid("'\(item)' is not one of \(valuesList ?? "")"))
                }
                if let itemRange {
                    guard let number = Int(item), itemRange.contains(number) else {
                        return .failure(.invalid("'\(item)' is not a number in \(itemRange.lowerBound)...\(itemRange.upperBound)"))
                    }
                }
                guard seen.insert(item).inserted else { return .failure(.invalid("'\(item)' is listed twice")) }
            }
            // A SequenceList orders something that must exist: it is never empty.
            if dataType == .sequenceList, items.isEmpty { return .failure(.invalid("the list is empty")) }
            return checkLength(text).map { text }
        }
    }

    private func checkRange(_ value: Double, text: String) -> Result<Void, ValueRejection> {
        if let minLimit, value < minLimit { return .failure(.outOfRange("\(text) is below \(decimalText(minLimit))")) }
        if let maxLimit, value > maxLimit { return .failure(.outOfRange("\(text) is above \(decimalText(maxLimit))")) }
        return .success(())
    }

    private func checkLength(_ text: String) -> Result<Void, ValueRejection> {
        let length = Double(text.count)
        if let minLimit, length < minLimit {
            return .failure(.outOfRange("\(text.count) characters, at least \(decimalText(minLimit)) needed"))
        }
        if let maxLimit, length > maxLimit {
            return .failure(.outOfRange("\(text.count) characters, at most \(decimalText(maxLimit)) allowed"))
        }
        return .success(())
    }

    /// OCPP decimals: optional minus, digits, optional fraction. No exponent, no `inf`/`nan`.
    private static func isDecimal(_ text: String) -> Bool {
        var digits = 0
        var dots = 0
        for (index, c) in text.enumerated() {
            if c == "-", index == 0 { continue }
            if c == "." { dots += 1; continue }
            guard c.isASCII, c.isNumber else { return false }
            digits += 1
        }
        return digits > 0 && dots <= 1
    }
}
