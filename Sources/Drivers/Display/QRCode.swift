/// A QR code (ISO/IEC 18004) for a short text such as a payment or invoice URL: byte mode,
/// versions 1 to 10 (21×21 to 57×57 modules, up to 271 bytes at level M), Reed–Solomon error
/// correction at a chosen level, and the mask with the lowest penalty score.
public struct QRCode: Hashable, Sendable {
    public enum ErrorCorrection: Int, Sendable, CaseIterable {
        // Raw values index the tables; `formatBits` is what the symbol carries.
        case low = 0, medium = 1, quartile = 2, high = 3

        var formatBits: Int { [1, 0, 3, 2][rawValue] }
    }

    public enum EncodingError: Error, Hashable, Sendable {
        /// More bytes than version 10 holds at this level.
        case tooLong(bytes: Int, maximum: Int)
    }

    public let version: Int
    public let size: Int
    public let errorCorrection: ErrorCorrection
    public let mask: Int
    /// Row-major, true = dark.
    public let modules: [Bool]

    public func isDark(x: Int, y: Int) -> Bool {
        guard (0..<size).contains(x), (0..<size).contains(y) else { return false }
        return modules[y * size + x]
    }

    /// Rows as text, `#` dark and `.` light (tests, logs).
    public var rows: [String] {
        (0..<size).map { y in String((0..<size).map { isDark(x: $0, y: y) ? "#" : "." }) }
    }

    public static let maxVersion = 10
    /// Codewords per symbol, versions 1…10.
    static let totalCodewords = [26, 44, 70, 100, 134, 172, 196, 242, 292, 346]
    /// Error-correction codewords per block [version-1][level].
    static let eccPerBlock: [[Int]] = [
        [7, 10, 13, 17], [10, 16, 22, 28], [15, 26, 18, 22], [20, 18, 26, 16], [26, 24, 18, 22],
        [18, 16, 24, 28], [20, 18, 18, 26], [24, 22, 22, 26], [30, 22, 20, 24], [18, 26, 24, 28],
    ]
    /// Blocks [version-1][level].
    static let blocks: [[Int]] = [
        [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 2, 2], [1, 2, 2, 4], [1, 2, 4, 4],
        [2, 4, 4, 4], [2, 4, 6, 5], [2, 4, 6, 6], [2, 5, 8, 8], [4, 5, 8, 8],
    ]
    /// Alignment pattern centres, versions 2…10 (version 1 has none).
    static let alignment: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
    ]

    static func dataCodewords(_ version: Int, _ level: ErrorCorrection) -> Int {
        totalCodewords[version - 1] - eccPerBlock[version - 1][level.rawValue] * blocks[version - 1][level.rawValue]
    }

    /// The largest text (UTF-8 bytes) a level holds.
    public static func capacity(_ level: ErrorCorrection) -> Int {
        (dataCodewords(maxVersion, level) * 8 - 4 - 16) / 8
    }

    /// Encodes `text` (its UTF-8 bytes) in the smallest version that holds it, with the mask of
    /// the lowest penalty (or `mask`, 0…7, to compare with another encoder's output).
    public static func encode(_ text: String, errorCorrection level: ErrorCorrection = .medium,
                              mask forcedMask: Int? = nil) throws(EncodingError) -> QRCode {
        let bytes = Array(text.utf8)
        guard let version = (1...maxVersion).first(where: { v in
            4 + (v < 10 ? 8 : 16) + 8 * bytes.count <= dataCodewords(v, level) * 8
        }) else { throw .tooLong(bytes: bytes.count, maximum: capacity(level)) }
        let codewords = interleaved(version, level, data: dataCodewords(for: bytes, version: version, level: level))
        var best: QRCode?
        var bestPenalty = Int.max
        for mask in forcedMask.map({ [min(max(0, $0), 7)] }) ?? Array(0..<8) {
            var m = Matrix(version: version)
            m.drawFunctionPatterns()
            m.drawCodewords(codewords)
            m.applyMask(mask)
            m.drawFormat(level: level, mask: mask)
            let p = m.penalty()
            if p < bestPenalty {
                bestPenalty = p
                best = QRCode(version: version, size: m.size, errorCorrection: level, mask: mask, modules: m.dark)
            }
        }
        // Eight masks were tried; `best` is set.
        return best ?? QRCode(version: version, size: 0, errorCorrection: level, mask: 0, modules: [])
    }

    /// Mode, count, bytes, terminator and padding, as codewords.
    static func dataCodewords(for bytes: [UInt8], version: Int, level: ErrorCorrection) -> [UInt8] {
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) { for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) } }
        append(0b0100, 4)
        append(bytes.count, version < 10 ? 8 : 16)
        for b in bytes { append(Int(b), 8) }
        let capacity = dataCodewords(version, level) * 8
        append(0, min(4, capacity - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var out: [UInt8] = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
        var pad: UInt8 = 0xEC
        while out.count < capacity / 8 { out.append(pad); pad = pad == 0xEC ? 0x11 : 0xEC }
        return out
    }

    /// Splits the data into blocks, adds each block's Reed–Solomon codewords, interleaves.
    static func interleaved(_ version: Int, _ level: ErrorCorrection, data: [UInt8]) -> [UInt8] {
        let count = blocks[version - 1][level.rawValue]
        let ecc = eccPerBlock[version - 1][level.rawValue]
        let total = totalCodewords[version - 1]
        let shortBlocks = count - total % count
        let shortLength = total / count
        let divisor = ReedSolomon.divisor(degree: ecc)
        var all: [[UInt8]] = []
        var k = 0
        for i in 0..<count {
            let length = shortLength - ecc + (i < shortBlocks ? 0 : 1)
            var block = Array(data[k..<k + length])
            k += length
            let check = ReedSolomon.remainder(block, divisor: divisor)
            if i < shortBlocks { block.append(0) }  // placeholder, skipped below
            all.append(block + check)
        }
        var out: [UInt8] = []
        for i in 0..<all[0].count {
            for (j, block) in all.enumerated() where i != shortLength - ecc || j >= shortBlocks {
                out.append(block[i])
            }
        }
        return out
    }

    struct Matrix {
        let version: Int
        let size: Int
        var dark: [Bool]
        var function: [Bool]

        init(version: Int) {
            self.version = version
            size = version * 4 + 17
            dark = Array(repeating: false, count: size * size)
            function = Array(repeating: false, count: size * size)
        }

        mutating func set(_ x: Int, _ y: Int, _ isDark: Bool) {
            dark[y * size + x] = isDark
            function[y * size + x] = true
        }

        mutating func drawFunctionPatterns() {
            for i in 0..<size {
                set(6, i, i % 2 == 0)
                set(i, 6, i % 2 == 0)
            }
            for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
                for dy in -4...4 {
                    for dx in -4...4 {
                        let x = cx + dx, y = cy + dy
                        guard (0..<size).contains(x), (0..<size).contains(y) else { continue }
                        let d = max(abs(dx), abs(dy))
                        set(x, y, d != 2 && d != 4)
                    }
                }
            }
            let centres = QRCode.alignment[version - 1]
            for (i, cy) in centres.enumerated() {
                for (j, cx) in centres.enumerated() {
                    let last = centres.count - 1
                    if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                    for dy in -2...2 { for dx in -2...2 { set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) } }
                }
            }
            // Reserve the format areas (drawn after masking) and the dark module.
            drawFormat(level: .medium, mask: 0)
            if version >= 7 {
                var rem = version
                for _ in 0..<12 { rem = (rem << 1) ^ ((rem >> 11) * 0x1F25) }
                let bits = version << 12 | rem
                for i in 0..<18 {
                    let bit = (bits >> i) & 1 == 1
                    let a = size - 11 + i % 3, b = i / 3
                    set(a, b, bit)
                    set(b, a, bit)
                }
            }
        }

        mutating func drawFormat(level: ErrorCorrection, mask: Int) {
            let data = level.formatBits << 3 | mask
            var rem = data
            for _ in 0..<10 { rem = (rem << 1) ^ ((rem >> 9) * 0x537) }
            let bits = (data << 10 | rem) ^ 0x5412
            func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
            for i in 0...5 { set(8, i, bit(i)) }
            set(8, 7, bit(6))
            set(8, 8, bit(7))
            set(7, 8, bit(8))
            for i in 9..<15 { set(14 - i, 8, bit(i)) }
            for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
            for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
            set(8, size - 8, true)
        }

        /// The zigzag: column pairs from the right, up then down, skipping the timing column.
        mutating func drawCodewords(_ codewords: [UInt8]) {
            var i = 0
            var right = size - 1
            while right >= 1 {
                if right == 6 { right = 5 }
                for vertical in 0..<size {
                    for j in 0..<2 {
                        let x = right - j
                        let upward = (right + 1) & 2 == 0
                        let y = upward ? size - 1 - vertical : vertical
                        guard !function[y * size + x] else { continue }
                        if i < codewords.count * 8 {
                            dark[y * size + x] = (codewords[i >> 3] >> (7 - UInt8(i & 7))) & 1 == 1
                            i += 1
                        }
                    }
                }
                right -= 2
            }
        }

        mutating func applyMask(_ mask: Int) {
            for y in 0..<size {
                for x in 0..<size where !function[y * size + x] {
                    let flip: Bool
                    switch mask {
                    case 0: flip = (x + y) % 2 == 0
                    case 1: flip = y % 2 == 0
                    case 2: flip = x % 3 == 0
                    case 3: flip = (x + y) % 3 == 0
                    case 4: flip = (x / 3 + y / 2) % 2 == 0
                    case 5: flip = x * y % 2 + x * y % 3 == 0
                    case 6: flip = (x * y % 2 + x * y % 3) % 2 == 0
                    default: flip = ((x + y) % 2 + x * y % 3) % 2 == 0
                    }
                    if flip { dark[y * size + x].toggle() }
                }
            }
        }

        /// The standard's penalty: runs of five or more, 2×2 blocks, finder-like patterns, and
        /// the distance of the dark share from half.
        func penalty() -> Int {
            var score = 0
            func line(_ at: (Int) -> Bool) -> Int {
                var s = 0
                var run = 1
                for i in 1..<size {
                    if at(i) == at(i - 1) { run += 1 } else { if run >= 5 { s += run - 2 }; run = 1 }
                }
                if run >= 5 { s += run - 2 }
                // 1:1:3:1:1 with four light modules on one side.
                let pattern: [Bool] = [true, false, true, true, true, false, true]
                // Each side with four light modules counts (as the reference encoders do);
                // modules outside the symbol do not.
                for i in 0...(size - 7) where (0..<7).allSatisfy({ at(i + $0) == pattern[$0] }) {
                    if i >= 4, ((i - 4)..<i).allSatisfy({ !at($0) }) { s += 40 }
                    if i + 11 <= size, ((i + 7)..<(i + 11)).allSatisfy({ !at($0) }) { s += 40 }
                }
                return s
            }
            for y in 0..<size { score += line { dark[y * size + $0] } }
            for x in 0..<size { score += line { dark[$0 * size + x] } }
            for y in 0..<(size - 1) {
                for x in 0..<(size - 1) {
                    let c = dark[y * size + x]
                    if c == dark[y * size + x + 1], c == dark[(y + 1) * size + x], c == dark[(y + 1) * size + x + 1] { score += 3 }
                }
            }
            let darkCount = dark.filter { $0 }.count
            let total = size * size
            // 10 points per whole 5 % the dark share is away from 50 %.
            let k = abs(darkCount * 20 - total * 10) / total
            return score + k * 10
        }
    }
}

/// Reed–Solomon over GF(256) with the QR polynomial x⁸+x⁴+x³+x²+1.
enum ReedSolomon {
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var x = Int(a), y = Int(b), r = 0
        while y != 0 {
            if y & 1 == 1 { r ^= x }
            x <<= 1
            if x & 0x100 != 0 { x ^= 0x11D }
            y >>= 1
        }
        return UInt8(r)
    }

    /// The generator polynomial's coefficients (highest first, leading 1 dropped).
    static func divisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    static func remainder(_ data: [UInt8], divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for b in data {
            let factor = b ^ result.removeFirst()
            result.append(0)
            for i in result.indices { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }
}
