import HAL

/// One reading of every measurand the meter's map names, in V, A, W, Wh, Hz, unitless PF.
public struct MeterReadout: Hashable, Sendable {
    public var at: MonotonicInstant
    public var values: [Measurand: Double]

    public init(at: MonotonicInstant, values: [Measurand: Double]) {
        self.at = at
        self.values = values
    }

    public subscript(_ m: Measurand) -> Double? { values[m] }
}

/// What goes wrong with a meter, as the charging logic sees it.
public enum MeterFault: Error, Equatable, Sendable, CustomStringConvertible {
    /// One read failed; the meter is not (yet) considered offline.
    case readFailed(HardwareError)
    /// `consecutiveFailures` reads in a row failed; cleared by the next good read.
    case offline(consecutiveFailures: Int, lastError: HardwareError)
    /// The meter answered, but with a value that cannot be true. The sample is discarded.
    case implausible(Measurand, value: Double, reason: String)
    /// The register map cannot be read as written (e.g. a register beyond 0xFFFF).
    case invalidMap(String)

    public var description: String {
        switch self {
        case let .readFailed(e): return "meter read failed: \(e)"
        case let .offline(n, e): return "meter offline after \(n) failed reads (last: \(e))"
        case let .implausible(m, v, reason): return "meter value \(m.rawValue) = \(v) is implausible: \(reason)"
        case let .invalidMap(why): return "meter register map unusable: \(why)"
        }
    }
}

/// Ranges outside which a value is garbage, not physics.
public struct MeterPlausibility: Hashable, Sendable {
    /// Phase-to-neutral voltage.
    public var voltage: ClosedRange<Double>
    public var frequency: ClosedRange<Double>
    /// Magnitude of a phase current.
    public var maxCurrent: Double
    /// Energy may read lower than before by at most this much (Wh) before it is a fault.
    public var energyBackwardsTolerance: Double

    public init(voltage: ClosedRange<Double> = 0...480, frequency: ClosedRange<Double> = 40...70,
                maxCurrent: Double = 1_000, energyBackwardsTolerance: Double = 0) {
        self.voltage = voltage
        self.frequency = frequency
        self.maxCurrent = maxCurrent
        self.energyBackwardsTolerance = energyBackwardsTolerance
    }
}

public struct EnergyMeterConfig: Hashable, Sendable {
    /// Consecutive failed reads after which the meter is offline.
    public var offlineAfterFailures: Int
    public var plausibility: MeterPlausibility
    /// Registers of the same function this far apart (in registers) are still fetched in one
    /// request. 0: only truly contiguous values share a request, because some meters answer
    /// an exception for reads that touch an unmapped register.
    public var maxGap: UInt16
    /// Modbus allows 125 registers per read.
    public var maxRegistersPerRequest: UInt16

    public init(offlineAfterFailures: Int = 3, plausibility: MeterPlausibility = .init(),
                maxGap: UInt16 = 0, maxRegistersPerRequest: UInt16 = 125) {
        self.offlineAfterFailures = max(1, offlineAfterFailures)
        self.plausibility = plausibility
        self.maxGap = maxGap
        self.maxRegistersPerRequest = min(125, max(4, maxRegistersPerRequest))
    }
}

/// One Modbus read request covering one or more measurands.
public struct MeterReadRequest: Hashable, Sendable {
    public var function: ModbusFunction
    public var address: UInt16
    public var count: UInt16
    public var measurands: [Measurand]
}

extension MeterRegisterMap {
    /// Groups the registers into as few requests as the gap and size limits allow, in
    /// address order per function.
    public func readRequests(maxGap: UInt16 = 0, maxRegistersPerRequest: UInt16 = 125) throws(MeterFault) -> [MeterReadRequest] {
        var requests: [MeterReadRequest] = []
        for function in ModbusFunction.allCases {
            let entries = registers
                .filter { $0.value.function == function }
                .sorted { ($0.value.address, $0.key.rawValue) < ($1.value.address, $1.key.rawValue) }
            var current: MeterReadRequest?
            for (measurand, def) in entries {
                let end = UInt32(def.address) + UInt32(def.type.registerCount)
                guard end <= 0x1_0000 else {
                    throw MeterFault.invalidMap("\(measurand.rawValue) at \(def.address) runs past register 0xFFFF")
                }
                if var c = current {
                    let cEnd = UInt32(c.address) + UInt32(c.count)
                    let newEnd = max(cEnd, end)
                    if UInt32(def.address) <= cEnd + UInt32(maxGap),
                       newEnd - UInt32(c.address) <= UInt32(maxRegistersPerRequest) {
                        c.count = UInt16(newEnd - UInt32(c.address))
                        c.measurands.append(measurand)
                        current = c
                        continue
                    }
                    requests.append(c)
                }
                current = MeterReadRequest(function: function, address: def.address,
                                           count: def.type.registerCount, measurands: [measurand])
            }
            if let c = current { requests.append(c) }
        }
        return requests
    }
}

/// An energy meter on a Modbus bus, read through its register map.
///
/// `read(at:)` blocks for up to the bus's response timeout per request: run it off the
/// charging logic's executor (that is what `MeterPoller` is for).
public final class EnergyMeter {
    public let bus: any ModbusBus
    public let unit: UInt8
    public let map: MeterRegisterMap
    public let config: EnergyMeterConfig

    private let plan: Result<[MeterReadRequest], MeterFault>
    private var consecutiveFailures = 0
    private var lastEnergy: [Measurand: Double] = [:]
    /// The last sample that passed every check.
    public private(set) var lastSample: MeterReadout?

    /// A map that cannot be read (a register past 0xFFFF) makes every `read` throw
    /// `.invalidMap`; the board loader rejects such maps before it gets here.
    public init(bus: any ModbusBus, unit: UInt8, map: MeterRegisterMap, config: EnergyMeterConfig = .init()) {
        self.bus = bus
        self.unit = unit
        self.map = map
        self.config = config
        plan = Result { () throws(MeterFault) in
            try map.readRequests(maxGap: config.maxGap, maxRegistersPerRequest: config.maxRegistersPerRequest)
        }
    }

    /// True once `offlineAfterFailures` reads in a row failed, until one succeeds.
    public var isOffline: Bool { consecutiveFailures >= config.offlineAfterFailures }

    /// The requests one read makes (for diagnostics and tests).
    public var plannedRequests: [MeterReadRequest] { (try? plan.get()) ?? [] }

    /// Reads every measurand. Throws `MeterFault`: `.readFailed` for a failed read,
    /// `.offline` from the N-th failure in a row on, `.implausible` when a value cannot be true.
    public func read(at now: MonotonicInstant) throws(MeterFault) -> MeterReadout {
        let requests = try plan.get()
        var values: [Measurand: Double] = [:]
        do {
            for request in requests {
                let words = try bus.readRegisters(unit: unit, function: request.function,
                                                  address: request.address, count: request.count)
                guard words.count == Int(request.count) else {
                    throw HardwareError(.protocolError, device: bus.name,
                                        "unit \(unit): asked for \(request.count) registers at \(request.address), got \(words.count)")
                }
                for m in request.measurands {
                    guard let def = map.registers[m] else { continue }
                    let offset = Int(def.address - request.address)
                    let slice = Array(words[offset..<offset + Int(def.type.registerCount)])
                    values[m] = try RegisterDecoder.decode(slice, def)
                }
            }
        } catch let error as HardwareError {
            throw recordFailure(error)
        } catch {
            throw recordFailure(HardwareError(.protocolError, device: bus.name, "unit \(unit): \(error)"))
        }
        consecutiveFailures = 0
        try checkPlausible(values)
        for m in [Measurand.energyImported, .energyExported] { if let v = values[m] { lastEnergy[m] = v } }
        let sample = MeterReadout(at: now, values: values)
        lastSample = sample
        return sample
    }

    private func recordFailure(_ error: HardwareError) -> MeterFault {
        consecutiveFailures += 1
        if consecutiveFailures >= config.offlineAfterFailures {
            return .offline(consecutiveFailures: consecutiveFailures, lastError: error)
        }
        return .readFailed(error)
    }

    private func checkPlausible(_ values: [Measurand: Double]) throws(MeterFault) {
        let p = config.plausibility
        for m in Measurand.allCases {
            guard let v = values[m] else { continue }
            guard v.isFinite else { throw .implausible(m, value: v, reason: "not a finite number") }
            switch m {
            case .voltageL1, .voltageL2, .voltageL3:
                if !p.voltage.contains(v) {
                    throw .implausible(m, value: v, reason: "outside \(p.voltage.lowerBound)…\(p.voltage.upperBound) V")
                }
            case .currentL1, .currentL2, .currentL3:
                if abs(v) > p.maxCurrent { throw .implausible(m, value: v, reason: "beyond ±\(p.maxCurrent) A") }
            case .frequency:
                if !p.frequency.contains(v) {
                    throw .implausible(m, value: v, reason: "outside \(p.frequency.lowerBound)…\(p.frequency.upperBound) Hz")
                }
            case .powerFactor:
                if abs(v) > 1.001 { throw .implausible(m, value: v, reason: "power factor beyond ±1") }
            case .energyImported, .energyExported:
                if v < 0 { throw .implausible(m, value: v, reason: "negative energy counter") }
                if let last = lastEnergy[m], v < last - p.energyBackwardsTolerance {
                    throw .implausible(m, value: v, reason: "energy went backwards from \(last) Wh")
                }
            case .activePowerTotal, .activePowerL1, .activePowerL2, .activePowerL3:
                break
            }
        }
    }
}
