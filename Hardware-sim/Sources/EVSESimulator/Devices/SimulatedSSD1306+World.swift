/// The simulated board's SSD1306 OLED: writes to 0x3C or 0x3D on the I2C bus land here, and
/// `GET /api/state` shows the glass under `oled`: `pixels` (64 rows of 128 `#`/`.`), `text`
/// (the 8 rows of 21 characters read back against the firmware's font), `on`, `lit`.
extension SimulatedSSD1306 {
    public static let addresses: Set<UInt8> = [0x3C, 0x3D]
}

extension World {
    mutating func oledWrite(_ bytes: [UInt8]) {
        let before = oled.textRows
        oled.write(bytes)
        let after = oled.textRows
        if before != after { emit("oled", nil, [("text", .array(after.map { .string($0) }))]) }
    }

    var oledJSON: JSONValue {
        .object([
            ("width", .int(Int64(SimulatedSSD1306.width))),
            ("height", .int(Int64(SimulatedSSD1306.height))),
            ("on", .bool(oled.displayOn && oled.chargePump)),
            ("lit", .int(Int64(oled.litCount))),
            ("text", .array(oled.textRows.map { .string($0) })),
            ("pixels", .array(oled.pixelRows.map { .string($0) })),
        ])
    }
}
