import ConfigFile
import Drivers
import HAL

/// Loads a meter register map data file (`Board/meters/NAME.yaml`):
///
///     manufacturer: Eastron
///     model: SDM630
///     word_order: high-first          # default for every register; low-first for e.g. EM340
///     notes: free text                # optional: where the map comes from
///     registers:
///       voltage.l1:           {function: 4, address: 0x0000, type: float32}
///       energy.active.import: {function: 4, address: 0x0048, type: float32, scale: 1000}
///
/// Register keys are `Measurand` raw values; `function` is 3 (holding) or 4 (input);
/// `type` int16/uint16/int32/uint32/uint64/float32; optional `scale` (default 1) and
/// per-register `word_order`.
public enum MeterMapLoader {
    public static func load(path: String) throws(BoardFileError) -> MeterRegisterMap {
        let text = try TextFile.read(path)
        return try parse(text, file: path, name: TextFile.stem(of: path))
    }

    /// Finds a map by name (`sdm630` → `DIR/sdm630.yaml`) or takes a path as is (anything
    /// containing `/` or ending in `.yaml`). Returns nil when no such file exists.
    public static func locate(_ nameOrPath: String, metersDirectory: String) -> String? {
        let isPath = nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml")
        let candidates = isPath ? [nameOrPath]
            : [TextFile.join(metersDirectory, nameOrPath + ".yaml"), TextFile.join(metersDirectory, nameOrPath + ".yml")]
        return candidates.first { TextFile.exists($0) }
    }

    public static func parse(_ text: String, file: String, name: String) throws(BoardFileError) -> MeterRegisterMap {
        let root = try ConfigParser.parse(text, file: file)
        let r = ConfigReader(file: file)
        if root.isNull { throw r.error(line: 1, "", "empty meter map: expected manufacturer, model and registers") }
        var top = try r.mapping(root, "")
        let manufacturer = try r.string(top.required("manufacturer", "the meter's manufacturer"), "manufacturer")
        let model = try r.string(top.required("model", "the meter's model"), "model")
        var defaultOrder = WordOrder.highFirst
        if let n = top.optional("word_order") { defaultOrder = try r.oneOf(n, "word_order", WordOrder.self) }
        if let n = top.optional("notes") { _ = try r.string(n, "notes") }
        let regsNode = try top.required("registers", "a mapping measurand → {function, address, type}")
        try top.finish()

        let regs = try r.mapping(regsNode, "registers")
        guard !regs.entries.isEmpty else {
            throw r.error(regsNode, "registers", "expected at least one register")
        }
        var registers: [Measurand: RegisterDefinition] = [:]
        for entry in regs.entries {
            let path = "registers.\(entry.key)"
            guard let measurand = Measurand(rawValue: entry.key) else {
                throw r.error(line: entry.keyLine, path,
                              "unknown measurand (expected one of: \(Measurand.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            var f = try r.mapping(entry.value, path)
            let fn = try r.int(f.required("function", "3 (holding) or 4 (input registers)"), f.sub("function"), in: 3...4)
            let addressNode = try f.required("address", "the register address, e.g. 0x0048")
            let address = try r.int(addressNode, f.sub("address"), in: 0...0xFFFF)
            let type = try r.oneOf(f.required("type", "the register type"), f.sub("type"), RegisterType.self)
            var scale = 1.0
            if let n = f.optional("scale") {
                scale = try r.double(n, f.sub("scale"))
                if scale == 0 { throw r.error(n, f.sub("scale"), "expected a non-zero factor, found 0") }
            }
            var order = defaultOrder
            if let n = f.optional("word_order") { order = try r.oneOf(n, f.sub("word_order"), WordOrder.self) }
            try f.finish()
            if address + Int(type.registerCount) > 0x10000 {
                throw r.error(addressNode, f.sub("address"), "a \(type.rawValue) at \(address) runs past register 0xFFFF")
            }
            guard let function = ModbusFunction(rawValue: UInt8(fn)) else {
                throw r.error(entry.value, f.sub("function"), "expected 3 or 4")
            }
            registers[measurand] = RegisterDefinition(function: function, address: UInt16(address), type: type,
                                                      wordOrder: order, scale: scale)
        }
        return MeterRegisterMap(name: name, manufacturer: manufacturer, model: model, registers: registers)
    }
}
