@_spi(Wire) import CodeSyncDocument
/// The hot messages (`ops`, `ack`, `ping`, `pong`, `presence`) read and written without `Codable`.
///
/// Foundation's JSON coders cost tens of microseconds per small message (generic Codable
/// machinery), and every edit is decoded once per receiver. This path handles the common,
/// well-formed case only: whenever it meets anything it does not fully understand (another
/// message type, a duplicate key, a number or value of an unexpected form, a bad range) it
/// gives up and `MessageCodec` uses the Codable path, which accepts or rejects exactly as
/// before and words the error. Encoding produces the same bytes as the Codable path (sorted keys).
enum FastCodec {
    /// A decoded hot message; `update` is the byte range of an `ops` message's `update` value.
    struct Decoded {
        var message: WireMessage
        var update: Range<Int>?
    }

    /// What reading a frame gave.
    enum Outcome {
        /// A hot message.
        case decoded(Decoded)
        /// The JSON breaks a `ParseLimits` cap: refuse it, never hand it to another decoder.
        case refused(String)
        /// Not a hot message in the expected form: ask the Codable path. `scanned`: the whole
        /// input was parsed within the caps (so it needs no `JSONScanner` pass first).
        case fallback(scanned: Bool)
    }

    /// Decodes `bytes` if it is a hot message in the expected form; nil means "ask the Codable path".
    static func decode(_ bytes: UnsafeRawBufferPointer) -> Decoded? {
        if case .decoded(let decoded) = read(bytes) { return decoded }
        return nil
    }

    /// Frames from this size on are checked by `JSONScanner` before they are parsed: it finds a
    /// breach of the caps without allocating a node per value.
    static let scanFirstFrom = 64 * 1024

    /// Reads `bytes` in linear time with the caps of `ParseLimits`.
    static func read(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        if bytes.count >= scanFirstFrom, let violation = JSONScanner.violation(in: bytes) { return .refused(violation) }
        var parser = JSONParser(bytes: bytes)
        let root = parser.parseDocument()
        if let violation = parser.violation { return .refused(violation) }
        guard let root else { return .fallback(scanned: false) }
        return hot(root.value).map { .decoded($0) } ?? .fallback(scanned: true)
    }

    /// The hot message in `root`, nil when it is not one in the expected form.
    private static func hot(_ root: JSONValue) -> Decoded? {
        guard case .object(let fields) = root, case .string(let type)? = fields.value(of: "type") else { return nil }
        switch type {
        case "ops":
            guard case .string(let peer)? = fields.value(of: "peer"), case .int(let seq)? = fields.value(of: "seq"),
                let updateField = fields.field("update"), let update = Update(fast: updateField.value)
            else { return nil }
            var sentAt: Double?
            switch fields.value(of: "sentAt") {
            case nil, .null?: sentAt = nil
            case .int(let value)?: sentAt = Double(value)
            case .double(let value)?: sentAt = value
            default: return nil
            }
            return Decoded(message: .ops(Ops(peer: peer, seq: seq, update: update, sentAt: sentAt)), update: updateField.range)
        case "ack":
            guard case .int(let seq)? = fields.value(of: "seq") else { return nil }
            return Decoded(message: .ack(Ack(seq: seq)))
        case "ping", "pong":
            guard case .int(let id)? = fields.value(of: "id") else { return nil }
            return Decoded(message: type == "ping" ? .ping(Ping(id: id)) : .pong(Ping(id: id)))
        case "presence":
            guard case .string(let peer)? = fields.value(of: "peer"), case .string(let name)? = fields.value(of: "name"),
                case .int(let colour)? = fields.value(of: "colour"),
                let cursor = Anchor.fastOptional(fields.value(of: "cursor")),
                let mark = Anchor.fastOptional(fields.value(of: "mark"))
            else { return nil }
            var file: String?
            switch fields.value(of: "file") {
            case nil, .null?: file = nil
            case .string(let path)?: file = path
            default: return nil
            }
            return Decoded(message: .presence(PresenceInfo(peer: peer, name: name, colour: colour, cursor: cursor, mark: mark, file: file)))
        default:
            return nil
        }
    }

    /// The JSON of `message` when it is a hot message (same bytes as the Codable path); nil otherwise.
    static func encode(_ message: WireMessage) -> [UInt8]? {
        var out = JSONWriter()
        switch message {
        case .ops(let ops):
            out.raw("{\"peer\":")
            out.string(ops.peer)
            if let sentAt = ops.sentAt {
                guard let text = JSONWriter.number(sentAt) else { return nil }
                out.raw(",\"sentAt\":")
                out.raw(text)
            }
            out.raw(",\"seq\":")
            out.int(ops.seq)
            out.raw(",\"type\":\"ops\",\"update\":")
            out.update(ops.update)
            out.raw("}")
        case .ack(let ack):
            out.raw("{\"seq\":")
            out.int(ack.seq)
            out.raw(",\"type\":\"ack\"}")
        case .ping(let ping), .pong(let ping):
            out.raw("{\"id\":")
            out.int(ping.id)
            out.raw(message.type == "ping" ? ",\"type\":\"ping\"}" : ",\"type\":\"pong\"}")
        case .presence(let info):
            out.raw("{\"colour\":")
            out.int(info.colour)
            if let cursor = info.cursor {
                out.raw(",\"cursor\":")
                out.anchor(cursor)
            }
            if let file = info.file {
                out.raw(",\"file\":")
                out.string(file)
            }
            if let mark = info.mark {
                out.raw(",\"mark\":")
                out.anchor(mark)
            }
            out.raw(",\"name\":")
            out.string(info.name)
            out.raw(",\"peer\":")
            out.string(info.peer)
            out.raw(",\"type\":\"presence\"}")
        default:
            return nil
        }
        return out.bytes
    }

    /// The JSON of `update` (same bytes as `JSONEncoder` with sorted keys).
    static func encode(_ update: Update) -> [UInt8] {
        var out = JSONWriter()
        out.update(update)
        return out.bytes
    }
}

/// A parsed JSON value. Numbers without a fraction or exponent that fit an `Int` are `.int`.
indirect enum JSONValue {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([JSONField])
}

/// One member of a JSON object, with the byte range its value came from.
struct JSONField {
    var key: String
    var value: JSONValue
    var range: Range<Int>
}

extension [JSONField] {
    func field(_ key: String) -> JSONField? { first { $0.key == key } }
    func value(of key: String) -> JSONValue? { field(key)?.value }
}

/// Caps on the JSON of every frame, of any type and in any state. They keep the memory a frame
/// can make a parser allocate (a tree node per value) and the nesting it recurses into bounded;
/// every honest message stays far below them (senders cut large updates into parts of at most
/// `partBudget` bytes, see `Update.split`).
public enum ParseLimits {
    /// Nesting of arrays and objects (real messages nest 4 deep).
    public static let maxDepth = 32
    /// Tokens (values and object keys) in one frame.
    public static let maxTokens = 1 << 20
    /// Members of one object (a version vector has one per agent of the document).
    public static let maxObjectKeys = 1 << 16
}

/// A strict RFC 8259 parser that returns nil (instead of an error) on anything it does not accept,
/// including duplicate keys, so that the caller can fall back to the Codable decoder. Linear in
/// the input: keys are de-duplicated with a hash set once an object is large, and the caps of
/// `ParseLimits` are checked per token (a breach sets `violation`).
struct JSONParser {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private var tokens = 0
    /// Why the input was refused for breaking a cap; nil when it was not.
    private(set) var violation: String?
    /// Objects up to this many members look for a duplicate key by scanning (cheaper than hashing).
    private static let scanKeysUpTo = 16

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Counts one token; false (with `violation` set) past the cap.
    private mutating func countToken() -> Bool {
        tokens += 1
        guard tokens <= ParseLimits.maxTokens else {
            violation = "more than \(ParseLimits.maxTokens) JSON values in one frame"
            return false
        }
        return true
    }

    /// The one value that makes up the whole input (whitespace around it allowed).
    mutating func parseDocument() -> (value: JSONValue, range: Range<Int>)? {
        guard let value = parseValue(depth: 0) else { return nil }
        skipSpace()
        return index == bytes.count ? value : nil
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) -> (value: JSONValue, range: Range<Int>)? {
        skipSpace()
        guard index < bytes.count, countToken() else { return nil }
        let start = index
        let value: JSONValue
        // `depth` containers are open around this value; opening one more must stay within the cap.
        if bytes[index] == UInt8(ascii: "{") || bytes[index] == UInt8(ascii: "["), depth >= ParseLimits.maxDepth {
            violation = "JSON nested deeper than \(ParseLimits.maxDepth) levels"
            return nil
        }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var fields: [JSONField] = []
            var keys: Set<String> = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipSpace()
                    guard countToken(), let key = parseString() else { return nil }
                    guard fields.count < ParseLimits.maxObjectKeys else {
                        violation = "an object with more than \(ParseLimits.maxObjectKeys) members"
                        return nil
                    }
                    if fields.count < Self.scanKeysUpTo {
                        guard !fields.contains(where: { $0.key == key }) else { return nil }
                    } else {
                        if keys.isEmpty { keys = Set(fields.map(\.key)) }
                        guard keys.insert(key).inserted else { return nil }
                    }
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                    index += 1
                    guard let member = parseValue(depth: depth + 1) else { return nil }
                    fields.append(JSONField(key: key, value: member.value, range: member.range))
                    skipSpace()
                    guard index < bytes.count else { return nil }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    guard bytes[index] == UInt8(ascii: "}") else { return nil }
                    index += 1
                    break
                }
            }
            value = .object(fields)
        case UInt8(ascii: "["):
            index += 1
            var elements: [JSONValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
            } else {
                while true {
                    guard let element = parseValue(depth: depth + 1) else { return nil }
                    elements.append(element.value)
                    skipSpace()
                    guard index < bytes.count else { return nil }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    guard bytes[index] == UInt8(ascii: "]") else { return nil }
                    index += 1
                    break
                }
            }
            value = .array(elements)
        case UInt8(ascii: "\""):
            guard let text = parseString() else { return nil }
            value = .string(text)
        case UInt8(ascii: "t"):
            guard literal("true") else { return nil }
            value = .bool(true)
        case UInt8(ascii: "f"):
            guard literal("false") else { return nil }
            value = .bool(false)
        case UInt8(ascii: "n"):
            guard literal("null") else { return nil }
            value = .null
        default:
            guard let number = parseNumber() else { return nil }
            value = number
        }
        return (value, start..<index)
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private mutating func parseNumber() -> JSONValue? {
        let start = index
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, Self.isDigit(bytes[index]) else { return nil }
        if bytes[index] == 0x30 {
            index += 1
            if index < bytes.count, Self.isDigit(bytes[index]) { return nil }  // no leading zeros
        } else {
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard index < bytes.count, Self.isDigit(bytes[index]) else { return nil }
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, Self.isDigit(bytes[index]) else { return nil }
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
        if integral {
            let negative = bytes[start] == UInt8(ascii: "-")
            var value = 0
            for position in (negative ? start + 1 : start)..<index {
                let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int(bytes[position] - 0x30))
                if overflow || overflow2 { return nil }
                value = sum
            }
            return .int(negative ? -value : value)
        }
        // Exponents and values that round to zero or to a subnormal are left to JSONDecoder, which
        // refuses some of them (e.g. 5e-3241) where Double(_:) would quietly give 0.
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard !text.contains(where: { $0 == "e" || $0 == "E" }), let value = Double(text), value.isFinite,
            value == 0 ? !text.contains(where: { ("1"..."9").contains($0) }) : abs(value) >= Double.leastNormalMagnitude
        else { return nil }
        return .double(value)
    }

    /// A string literal; nil on bad escapes, raw control characters or invalid UTF-8.
    private mutating func parseString() -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        let start = index
        // Fast case: no escapes (and, most often, ASCII only, which needs no UTF-8 validation).
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                let text = ascii ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { return nil }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        var scalars: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: scalars, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    guard var code = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(code) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
                        index += 2
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        return nil
                    }
                    guard let scalar = Unicode.Scalar(code) else { return nil }
                    scalars.append(contentsOf: String(scalar).utf8)
                default:
                    return nil
                }
            default:
                if byte < 0x20 { return nil }
                scalars.append(byte)
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}

/// Checks the caps of `ParseLimits` in one pass without building anything, before input that
/// `JSONParser` did not read to the end goes to Foundation's decoder. Lenient about what is inside
/// strings and numbers (the decoder judges those); it follows only the structure, which it
/// delimits the way any JSON parser must, so the decoder never sees more than it checked.
enum JSONScanner {
    /// Why `bytes` breaks a cap, nil when it does not (or when it is malformed before it would).
    static func violation(in bytes: UnsafeRawBufferPointer) -> String? {
        var tokens = 0
        // Per open container: the members of an object so far, or -1 for an array.
        var open: [Int] = []
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                tokens += 1
                open.append(byte == UInt8(ascii: "{") ? 0 : -1)
                if open.count > ParseLimits.maxDepth { return "JSON nested deeper than \(ParseLimits.maxDepth) levels" }
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard open.popLast() != nil else { return nil }
                index += 1
            case UInt8(ascii: ":"):
                guard let last = open.indices.last, open[last] >= 0 else { return nil }
                open[last] += 1
                if open[last] > ParseLimits.maxObjectKeys { return "an object with more than \(ParseLimits.maxObjectKeys) members" }
                index += 1
            case UInt8(ascii: "\""):
                tokens += 1
                index += 1
                while index < count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                index += 1
            case UInt8(ascii: ","), 0x20, 0x09, 0x0A, 0x0D:
                index += 1
            default:
                // A number or a literal: one token, whatever its characters.
                tokens += 1
                index += 1
                while index < count {
                    switch bytes[index] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ":"), UInt8(ascii: "\""),
                        UInt8(ascii: "{"), UInt8(ascii: "["), 0x20, 0x09, 0x0A, 0x0D:
                        break
                    default:
                        index += 1
                        continue
                    }
                    break
                }
            }
            if tokens > ParseLimits.maxTokens { return "more than \(ParseLimits.maxTokens) JSON values in one frame" }
        }
        return nil
    }
}

/// Builds JSON text the way `JSONEncoder` (sorted keys, slashes not escaped) writes it.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(128) }

    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func int(_ value: Int) { raw(String(value)) }

    mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    /// A string literal with the escapes `JSONEncoder` uses.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x00..<0x20:
                let digits: [UInt8] = Array("0123456789abcdef".utf8)
                raw("\\u00")
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// How `JSONEncoder` writes a finite double; nil for values this writer leaves to it.
    static func number(_ value: Double) -> String? {
        guard value.isFinite, !(value == 0 && value.sign == .minus) else { return nil }
        if value == value.rounded(.towardZero), abs(value) < 1e15 { return String(Int64(value)) }
        let text = value.description
        // Exponent forms ("1e+16", "5e-324") are left to JSONEncoder, which writes them its own way.
        return text.contains("e") ? nil : text
    }

    mutating func anchor(_ anchor: Anchor) {
        if let agent = anchor.agent {
            raw("{\"a\":")
            string(agent)
            raw(",\"l\":")
        } else {
            raw("{\"l\":")
        }
        bool(anchor.after)
        raw(",\"s\":")
        int(anchor.seq)
        raw("}")
    }

    /// An update as `Update.encode(to:)` writes it: `{"a":[agents],"o":[rows]}`.
    mutating func update(_ update: Update) {
        var agents: [AgentID] = []
        func intern(_ name: AgentID) -> Int {
            if let known = agents.firstIndex(of: name) { return known }
            agents.append(name)
            return agents.count - 1
        }
        var rows = JSONWriter()
        rows.raw("[")
        for (position, op) in update.ops.enumerated() {
            if position > 0 { rows.raw(",") }
            switch op {
            case .insert(let insert):
                let numbers = [
                    0, intern(insert.agent), insert.seq,
                    insert.left.map { intern($0.agent) } ?? -1, insert.left?.seq ?? 0,
                    insert.right.map { intern($0.agent) } ?? -1, insert.right?.seq ?? 0,
                ]
                rows.raw("[")
                for number in numbers {
                    rows.int(number)
                    rows.raw(",")
                }
                rows.string(insert.text)
                rows.raw("]")
            case .delete(let delete):
                rows.raw("[1,")
                rows.int(intern(delete.agent))
                rows.raw(",")
                rows.int(delete.seq)
                for span in delete.spans {
                    rows.raw(",")
                    rows.int(intern(span.agent))
                    rows.raw(",")
                    rows.int(span.seq)
                    rows.raw(",")
                    rows.int(span.backward ? -span.count : span.count)
                }
                rows.raw("]")
            }
        }
        rows.raw("]")
        raw("{\"a\":[")
        for (position, agent) in agents.enumerated() {
            if position > 0 { raw(",") }
            string(agent)
        }
        raw("],\"o\":")
        bytes.append(contentsOf: rows.bytes)
        raw("}")
    }
}

extension Anchor {
    /// `.some(nil)` for an absent or null anchor, `.some(anchor)` for a well-formed one, nil otherwise.
    static func fastOptional(_ value: JSONValue?) -> Anchor?? {
        switch value {
        case nil, .null?: return .some(nil)
        case .object(let fields)?:
            guard case .int(let seq)? = fields.value(of: "s"), case .bool(let after)? = fields.value(of: "l") else { return nil }
            switch fields.value(of: "a") {
            case nil, .null?: return .some(Anchor(agent: nil, seq: seq, after: after))
            case .string(let agent)?: return .some(Anchor(agent: agent, seq: seq, after: after))
            default: return nil
            }
        default: return nil
        }
    }
}

extension Update {
    /// The update in `value` when it passes every check `init(from:)` makes; nil otherwise.
    init?(fast value: JSONValue) {
        guard case .object(let fields) = value, case .array(let agentValues)? = fields.value(of: "a"),
            case .array(let rows)? = fields.value(of: "o")
        else { return nil }
        var agents: [AgentID] = []
        agents.reserveCapacity(agentValues.count)
        for value in agentValues {
            guard case .string(let agent) = value else { return nil }
            agents.append(agent)
        }
        func agent(_ value: JSONValue) -> AgentID? {
            guard case .int(let index) = value, index >= 0, index < agents.count else { return nil }
            return agents[index]
        }
        func number(_ value: JSONValue) -> Int? {
            guard case .int(let number) = value else { return nil }
            return number
        }
        var ops: [Op] = []
        ops.reserveCapacity(rows.count)
        for row in rows {
            guard case .array(let items) = row, items.count >= 3, let kind = number(items[0]), let author = agent(items[1]),
                let seq = number(items[2]), seq >= 0, seq < Int(Int32.max)
            else { return nil }
            switch kind {
            case 0:
                guard items.count == 8, let leftIndex = number(items[3]), let leftSeq = number(items[4]),
                    let rightIndex = number(items[5]), let rightSeq = number(items[6]), case .string(let text) = items[7]
                else { return nil }
                func ref(_ index: Int, _ seq: Int, _ item: JSONValue) -> OpRef?? {
                    if index == -1 { return .some(nil) }
                    guard seq >= 0, seq < Int(Int32.max), let name = agent(item) else { return nil }
                    return .some(OpRef(agent: name, seq: seq))
                }
                guard let left = ref(leftIndex, leftSeq, items[3]), let right = ref(rightIndex, rightSeq, items[5]) else { return nil }
                let length = text.unicodeScalars.count
                guard length > 0, seq + length < Int(Int32.max) else { return nil }
                ops.append(.insert(InsertOp(agent: author, seq: seq, left: left, right: right, text: text)))
            case 1:
                guard items.count >= 6, (items.count - 3) % 3 == 0 else { return nil }
                var spans: [DeleteSpan] = []
                var total = 0
                var position = 3
                while position < items.count {
                    // Out-of-range values are left to the Codable path (start < 0 is refused there too).
                    guard let target = agent(items[position]), let start = number(items[position + 1]), start >= 0,
                        let signed = number(items[position + 2]), signed != Int.min
                    else { return nil }
                    let count = abs(signed)
                    let low = signed < 0 ? start - count + 1 : start
                    guard signed != 0, low >= 0, start < Int(Int32.max), count < Int(Int32.max),
                        signed < 0 || start + count - 1 < Int(Int32.max)
                    else { return nil }
                    total += count
                    spans.append(DeleteSpan(agent: target, seq: start, count: count, backward: signed < 0))
                    position += 3
                }
                guard seq + total < Int(Int32.max) else { return nil }
                ops.append(.delete(DeleteOp(agent: author, seq: seq, spans: spans)))
            default:
                return nil
            }
        }
        self.init(ops: ops)
    }
}
