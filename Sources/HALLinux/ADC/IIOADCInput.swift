#if canImport(Glibc)
import Glibc
#endif
import HAL

/// An ADC channel of an Industrial I/O device:
/// `<sysfs>/bus/iio/devices/iio:deviceN/in_<channel>_{raw,scale,offset}`.
///
/// volts = (raw + offset) × scale / 1000 (IIO gives millivolts per count). scale and offset are
/// read with every sample because drivers such as the ADS1115 let the gain change at run time;
/// a channel without its own `_scale`/`_offset` uses the type's shared one
/// (`in_voltage_scale`), and none at all means 1 and 0.
final class IIOADCInput: ADCInput {
    let name: String
    private let rawPath: String
    private let scalePath: String?
    private let offsetPath: String?
    private let io: SysfsIO

    init(sysfsRoot: String, device: String, channel: String, io: SysfsIO) throws {
        self.io = io
        let devicesPath = "\(sysfsRoot)/bus/iio/devices"
        let devicePath = try Self.resolveDevice(device, in: devicesPath, io: io)
        guard !channel.isEmpty, !channel.contains("/") else {
            throw HardwareError(.invalidArgument, device: devicePath, "bad channel name \"\(channel)\"")
        }
        rawPath = "\(devicePath)/in_\(channel)_raw"
        name = rawPath
        guard io.exists(rawPath) else {
            let channels = io.list(devicePath).filter { $0.hasPrefix("in_") && $0.hasSuffix("_raw") }
                .map { String($0.dropFirst(3).dropLast(4)) }
            throw HardwareError(.deviceMissing, device: rawPath,
                                "no channel \"\(channel)\"; the device has: \(channels.isEmpty ? "none" : channels.joined(separator: ", "))")
        }
        let type = Self.channelType(channel)
        func pick(_ suffix: String) -> String? {
            let own = "\(devicePath)/in_\(channel)_\(suffix)"
            if io.exists(own) { return own }
            let shared = "\(devicePath)/in_\(type)_\(suffix)"
            return io.exists(shared) ? shared : nil
        }
        scalePath = pick("scale")
        offsetPath = pick("offset")
    }

    /// "iio:deviceN" as is; anything else is matched against each device's `name` attribute.
    static func resolveDevice(_ device: String, in devicesPath: String, io: SysfsIO) throws -> String {
        if device.hasPrefix("iio:device") {
            let path = "\(devicesPath)/\(device)"
            guard io.isDirectory(path) else {
                throw HardwareError(.deviceMissing, device: path, "no such IIO device (is its driver loaded / overlay enabled?)")
            }
            return path
        }
        var seen: [String] = []
        for entry in io.list(devicesPath) where entry.hasPrefix("iio:device") {
            let n = (try? io.read("\(devicesPath)/\(entry)/name")) ?? ""
            if n == device { return "\(devicesPath)/\(entry)" }
            seen.append("\(entry)=\(n.isEmpty ? "?" : n)")
        }
        throw HardwareError(.deviceMissing, device: "\(devicesPath)",
                            "no IIO device named \"\(device)\"; found: \(seen.isEmpty ? "none" : seen.joined(separator: ", "))")
    }

    /// "voltage0" → "voltage", "voltage0-voltage1" → "voltage-voltage" (IIO's shared prefix).
    static func channelType(_ channel: String) -> String {
        String(channel.filter { !$0.isNumber })
    }

    private func number(_ path: String, what: String) throws -> Double {
        let text = try io.read(path)
        guard let v = Double(text), v.isFinite else {
            throw HardwareError(.protocolError, device: path, "expected a number for the \(what), read \"\(text)\"")
        }
        return v
    }

    func readVolts() throws -> Double {
        let raw = try number(rawPath, what: "raw sample")
        let scale = try scalePath.map { try number($0, what: "scale") } ?? 1
        let offset = try offsetPath.map { try number($0, what: "offset") } ?? 0
        return (raw + offset) * scale / 1000
    }
}
