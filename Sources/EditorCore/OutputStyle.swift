/// A colour a program asked for with SGR: the terminal's default, one of the 256 palette entries
/// (0-15 are the basic and bright colours), or 24-bit RGB. Packed in one word so styled cells stay small.
public struct OutputColour: Hashable, Sendable {
    /// 0: default; 0x100 | index: palette; 0x1000000 | rgb: true colour.
    public let raw: UInt32

    public static let `default` = OutputColour(raw: 0)

    public static func palette(_ index: UInt8) -> OutputColour { OutputColour(raw: 0x100 | UInt32(index)) }

    public static func rgb(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> OutputColour {
        OutputColour(raw: 0x100_0000 | UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b))
    }

    public var isDefault: Bool { raw == 0 }

    /// The palette index, when the colour is one.
    public var paletteIndex: UInt8? { raw & 0x100_0000 == 0 && raw & 0x100 != 0 ? UInt8(raw & 0xFF) : nil }

    /// The red, green and blue components, when the colour is 24-bit.
    public var components: (r: UInt8, g: UInt8, b: UInt8)? {
        guard raw & 0x100_0000 != 0 else { return nil }
        return (UInt8(raw >> 16 & 0xFF), UInt8(raw >> 8 & 0xFF), UInt8(raw & 0xFF))
    }

    /// The nearest colour a terminal with `available` colours can show: itself on a 256-colour
    /// terminal (true colour goes to the nearest xterm-256 entry), one of 16 or 8 otherwise.
    /// Nil for the default colour.
    public func terminalIndex(available: Int) -> Int? {
        if isDefault { return nil }
        let index: Int
        if let p = paletteIndex { index = Int(p) } else if let c = components { index = Self.nearest256(c.r, c.g, c.b) } else { return nil }
        if available >= 256 || index < min(available, 16) { return index }
        let rgb = Self.rgbOfPalette(index)
        return Self.nearestBasic(rgb, count: available >= 16 ? 16 : 8)
    }

    /// xterm's palette entry `index` as RGB (the 16 basic colours in xterm's default shades).
    static func rgbOfPalette(_ index: Int) -> (Int, Int, Int) {
        if index < 16 { return basic[index] }
        if index < 232 {
            let i = index - 16
            return (cube[i / 36], cube[i / 6 % 6], cube[i % 6])
        }
        let grey = 8 + (index - 232) * 10
        return (grey, grey, grey)
    }

    private static let cube = [0, 95, 135, 175, 215, 255]
    private static let basic: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// The xterm-256 entry (16-255) nearest to an RGB colour: the nearer of the cube and the grey ramp.
    static func nearest256(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        func step(_ v: UInt8) -> Int { v < 48 ? 0 : v < 115 ? 1 : (Int(v) - 35) / 40 }
        let (ri, gi, bi) = (step(r), step(g), step(b))
        let cubeIndex = 16 + 36 * ri + 6 * gi + bi
        let average = (Int(r) + Int(g) + Int(b)) / 3
        let greyIndex = average > 238 ? 23 : max(0, (average - 3) / 10)
        let target = (Int(r), Int(g), Int(b))
        let cubeRGB = rgbOfPalette(cubeIndex), greyRGB = rgbOfPalette(232 + greyIndex)
        return distance(target, greyRGB) < distance(target, cubeRGB) ? 232 + greyIndex : cubeIndex
    }

    /// The nearest of the first `count` (8 or 16) basic colours.
    static func nearestBasic(_ rgb: (Int, Int, Int), count: Int) -> Int {
        var best = 0, bestDistance = Int.max
        for i in 0..<count {
            let d = distance(rgb, basic[i])
            if d < bestDistance { best = i; bestDistance = d }
        }
        return best
    }

    private static func distance(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Int {
        // Weighted like the eye's sensitivity (a cheap stand-in for a perceptual distance).
        let dr = a.0 - b.0, dg = a.1 - b.1, db = a.2 - b.2
        return 3 * dr * dr + 4 * dg * dg + 2 * db * db
    }
}

/// Colours and attributes of program output, as SGR sequences set them.
public struct OutputStyle: Hashable, Sendable {
    public var foreground = OutputColour.default
    public var background = OutputColour.default
    public var attributes = Attributes()

    /// Text attributes the output pane draws (others a program may ask for are ignored).
    public struct Attributes: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let bold = Attributes(rawValue: 1)
        public static let dim = Attributes(rawValue: 2)
        public static let underline = Attributes(rawValue: 4)
        public static let reverse = Attributes(rawValue: 8)
    }

    public init(foreground: OutputColour = .default, background: OutputColour = .default, attributes: Attributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    public static let plain = OutputStyle()

    public var isPlain: Bool { self == .plain }

    /// Most parameters an SGR is read for; the rest of a longer list is ignored.
    static let maxParameters = 64

    /// Applies an SGR's parameter bytes (digits, `;`, `:`). Unknown or malformed parameters are
    /// skipped; numbers are clamped, so no input costs more than one pass over its bytes.
    public mutating func apply(sgr bytes: [UInt8]) {
        // Parameters as numbers (-1: empty) with whether each one was introduced by ':'.
        var values: [Int] = []
        var colon: [Bool] = []
        values.reserveCapacity(8)
        var current = -1, currentColon = false
        for byte in bytes {
            switch byte {
            case 0x30...0x39:
                current = min(9999, max(0, current) * 10 + Int(byte - 0x30))
            case 0x3B, 0x3A:
                if values.count < Self.maxParameters { values.append(current); colon.append(currentColon) }
                current = -1
                currentColon = byte == 0x3A
            default:
                return  // not an SGR parameter byte: ignore the whole sequence
            }
        }
        if values.count < Self.maxParameters { values.append(current); colon.append(currentColon) }
        var i = 0
        while i < values.count {
            let p = max(0, values[i])
            switch p {
            case 0: self = .plain
            case 1: attributes.insert(.bold)
            case 2: attributes.insert(.dim)
            case 4: attributes.insert(.underline)
            case 7: attributes.insert(.reverse)
            case 21, 22: attributes.remove([.bold, .dim])
            case 24: attributes.remove(.underline)
            case 27: attributes.remove(.reverse)
            case 30...37: foreground = .palette(UInt8(p - 30))
            case 39: foreground = .default
            case 40...47: background = .palette(UInt8(p - 40))
            case 49: background = .default
            case 90...97: foreground = .palette(UInt8(p - 90 + 8))
            case 100...107: background = .palette(UInt8(p - 100 + 8))
            case 38, 48:
                // Extended colour: 5;n or 2;r;g;b, with ';' or ':' (the colon form may carry a
                // colour-space id before r, g, b).
                let (colour, used) = Self.extendedColour(values, colon, from: i + 1)
                if let colour { if p == 38 { foreground = colour } else { background = colour } }
                i += used
            default: break
            }
            i += 1
        }
    }

    /// Reads an extended colour's parameters after 38/48; returns it and how many parameters it used.
    private static func extendedColour(_ values: [Int], _ colon: [Bool], from start: Int) -> (OutputColour?, Int) {
        guard start < values.count else { return (nil, 0) }
        let byColon = colon[start]
        // In the colon form every sub-parameter belongs to this colour; count them.
        var subCount = 0
        if byColon { while start + subCount < values.count && colon[start + subCount] { subCount += 1 } }
        func value(_ k: Int) -> Int? { start + k < values.count ? values[start + k] : nil }
        func byte(_ v: Int?) -> UInt8? { v.map { UInt8(clamping: max(0, $0)) } }
        switch value(0) {
        case 5:
            guard let n = value(1), n >= 0, n <= 255 else { return (nil, byColon ? subCount : 2) }
            return (.palette(UInt8(n)), byColon ? subCount : 2)
        case 2:
            if byColon && subCount >= 5 {
                // 38:2:<colour space>:r:g:b
                guard let r = byte(value(2)), let g = byte(value(3)), let b = byte(value(4)) else { return (nil, subCount) }
                return (.rgb(r, g, b), subCount)
            }
            guard let r = byte(value(1)), let g = byte(value(2)), let b = byte(value(3)) else { return (nil, byColon ? subCount : 4) }
            return (.rgb(r, g, b), byColon ? subCount : 4)
        default:
            return (nil, byColon ? subCount : 1)
        }
    }

    /// The SGR sequence that selects this style from a reset, e.g. "1;31" (for tests and logs).
    public var sgrDescription: String {
        var parts: [String] = []
        if attributes.contains(.bold) { parts.append("1") }
        if attributes.contains(.dim) { parts.append("2") }
        if attributes.contains(.underline) { parts.append("4") }
        if attributes.contains(.reverse) { parts.append("7") }
        for (base, colour) in [(38, foreground), (48, background)] where !colour.isDefault {
            if let p = colour.paletteIndex { parts.append("\(base);5;\(p)") }
            if let c = colour.components { parts.append("\(base);2;\(c.r);\(c.g);\(c.b)") }
        }
        return parts.joined(separator: ";")
    }
}
