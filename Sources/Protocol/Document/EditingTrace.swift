import CZlib

/// A recorded editing session (the josephg/editing-traces format), held compactly: transactions and
/// patches as one varint stream (2–3 bytes per keystroke), inserted text as one UTF-8 buffer, read in
/// order with `PatchReader`. Built from the gzipped JSON bytes by `init(gzipped:)`; the JSON text is
/// never held whole.
public struct EditingTrace: Sendable {
    /// Sequential traces have one author; concurrent traces record several agents and their merges.
    public enum Kind: String, Sendable { case sequential, concurrent }

    /// One `Array.splice`-style edit: at `position` delete `deleted` scalars, then insert the text.
    public struct Patch: Sendable {
        public var position: Int
        public var deleted: Int
        /// Length of the inserted text in UTF-8 bytes; the text follows the previous patch's in `utf8`.
        public var textBytes: Int
    }

    public var kind: Kind = .sequential
    public var startContent = ""
    public var endContent = ""
    public var agentCount = 1
    /// Number of patches (edits) in all transactions.
    public fileprivate(set) var patchCount = 0
    /// Number of transactions.
    public fileprivate(set) var transactionCount = 0
    /// Unicode scalars inserted by all patches, and scalars their delete counts name: together the number
    /// of operations a replay creates, which lets it size its arrays once (see `Replica.reserveCapacity`).
    public fileprivate(set) var insertedScalarCount = 0
    public fileprivate(set) var deletedCount = 0
    /// Per transaction its patch count, then per patch `textBytes << 1 | (deletes ? 1 : 0)`, the delete
    /// count if it deletes, and the zigzag change of position from the previous patch; all LEB128.
    var stream: [UInt8] = []
    /// Inserted text of every patch, back to back, as UTF-8.
    public var utf8: [UInt8] = []
    /// Concurrent traces: the agent of each transaction.
    public var agents: [Int32] = []
    /// Concurrent traces: transaction t's parents are `parents[parentEnds[t - 1] ..< parentEnds[t]]`.
    public var parents: [Int32] = []
    public var parentEnds: [Int32] = []

    /// The parents of transaction `t` (concurrent traces).
    public func parentRange(_ t: Int) -> Range<Int> { (t == 0 ? 0 : Int(parentEnds[t - 1]))..<Int(parentEnds[t]) }

    /// Reads the transactions and their patches in order: `nextTransaction` gives the patch count of the
    /// next transaction, then `next` that many times. The stream was written by the parser of this trace,
    /// so it is well formed.
    public struct PatchReader {
        private var offset = 0
        private var textOffset = 0
        private var position = 0

        /// A reader at the first transaction.
        public init() {}

        /// The number of patches of the next transaction; call at most `transactionCount` times.
        public mutating func nextTransaction(in trace: EditingTrace) -> Int {
            trace.stream.withUnsafeBufferPointer { Self.varint($0, at: &offset) }
        }

        /// The next patch and its inserted text ("" when it only deletes).
        public mutating func next(in trace: EditingTrace) -> (patch: Patch, text: String) {
            let patch = trace.stream.withUnsafeBufferPointer { bytes in
                let header = Self.varint(bytes, at: &offset)
                let deleted = header & 1 == 1 ? Self.varint(bytes, at: &offset) : 0
                let change = Self.varint(bytes, at: &offset)
                position += (change >> 1) ^ -(change & 1)
                return Patch(position: position, deleted: deleted, textBytes: header >> 1)
            }
            guard patch.textBytes > 0 else { return (patch, "") }
            let start = textOffset
            textOffset += patch.textBytes
            let text = trace.utf8.withUnsafeBufferPointer { bytes in
                String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<textOffset]), as: UTF8.self)
            }
            return (patch, text)
        }

        @inline(__always)
        private static func varint(_ bytes: UnsafeBufferPointer<UInt8>, at offset: inout Int) -> Int {
            var byte = bytes[offset]
            offset += 1
            if byte < 0x80 { return Int(byte) }
            var value = Int(byte & 0x7F)
            var shift = 7
            repeat {
                byte = bytes[offset]
                offset += 1
                value |= Int(byte & 0x7F) << shift
                shift += 7
            } while byte & 0x80 != 0
            return value
        }
    }

    /// Appends a LEB128 varint to the patch stream.
    static func appendVarint(_ value: Int, to bytes: inout [UInt8]) {
        var v = UInt(bitPattern: value)
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Parses a gzipped trace, inflating and parsing in a stream so the JSON text is never held whole.
    public init(gzipped bytes: [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { input in
            var parser = try TraceParser(input: input)
            defer { parser.close() }
            try parser.parseTrace(into: &self)
        }
        guard transactionCount > 0 else { throw TraceError("trace has no transactions") }
        // Every scalar has exactly one byte that is not a UTF-8 continuation byte (10xxxxxx).
        insertedScalarCount = utf8.withUnsafeBufferPointer { bytes in
            var count = 0
            for byte in bytes where byte & 0xC0 != 0x80 { count += 1 }
            return count
        }
        if kind == .concurrent {
            guard agents.count == transactionCount, parentEnds.count == transactionCount else {
                throw TraceError("concurrent trace: every transaction needs an agent and parents")
            }
            for t in 0..<transactionCount {
                guard agents[t] >= 0, Int(agents[t]) < agentCount else { throw TraceError("transaction \(t): agent out of range") }
                for p in parentRange(t) where parents[p] < 0 || Int(parents[p]) >= t {
                    throw TraceError("transaction \(t): parent \(parents[p]) is not an earlier transaction")
                }
            }
        }
    }

}

/// A trace file could not be read; the message says what and where.
public struct TraceError: Error, CustomStringConvertible, Sendable {
    /// One line describing the problem.
    public var message: String

    init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Streaming gzip inflate feeding a small JSON pull parser that knows the trace schema.
private struct TraceParser {
    private let stream: UnsafeMutablePointer<z_stream>
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var position = 0
    private var limit = 0
    private var finished = false
    private var consumed = 0
    private var scratch: [UInt8] = []
    /// The current transaction's patches, until its patch count is known.
    private var transactionPatches: [UInt8] = []
    private var transactionPatchCount = 0
    private var lastPosition = 0

    init(input: UnsafeBufferPointer<UInt8>) throws {
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.pointee.avail_in = UInt32(input.count)
        guard codesync_inflate_init_gzip(stream) == Z_OK else {
            stream.deallocate()
            throw TraceError("cannot start gzip decompression")
        }
    }

    mutating func close() {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    private mutating func refill() throws -> Bool {
        if finished { return false }
        let produced: Int = try buffer.withUnsafeMutableBufferPointer { out in
            stream.pointee.next_out = out.baseAddress
            stream.pointee.avail_out = UInt32(out.count)
            let status = inflate(stream, Z_NO_FLUSH)
            if status == Z_STREAM_END {
                finished = true
            } else if status != Z_OK && status != Z_BUF_ERROR {
                throw TraceError("not a valid gzip file (zlib error \(status))")
            }
            return out.count - Int(stream.pointee.avail_out)
        }
        if produced == 0 && !finished && stream.pointee.avail_in == 0 {
            throw TraceError("gzip data ends early (truncated file?)")
        }
        consumed += limit
        position = 0
        limit = produced
        return produced > 0 || !finished
    }

    private mutating func peek() throws -> UInt8? {
        while position >= limit {
            if !(try refill()) { return nil }
        }
        return buffer[position]
    }

    private mutating func next() throws -> UInt8 {
        guard let byte = try peek() else { throw error("unexpected end of JSON") }
        position += 1
        return byte
    }

    private func error(_ what: String) -> TraceError {
        TraceError("trace JSON: \(what) at byte \(consumed + position)")
    }

    private mutating func skipSpace() throws {
        while let byte = try peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws {
        try skipSpace()
        let got = try next()
        guard got == byte else { throw error("expected '\(Character(Unicode.Scalar(byte)))', found '\(Character(Unicode.Scalar(got)))'") }
    }

    /// Consumes `byte` if it comes next (after whitespace).
    private mutating func take(_ byte: UInt8) throws -> Bool {
        try skipSpace()
        if try peek() == byte {
            position += 1
            return true
        }
        return false
    }

    /// Iterates a JSON array's elements, calling `element` positioned at each one.
    private mutating func array(_ element: (inout TraceParser) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if try take(UInt8(ascii: "]")) { return }
        repeat {
            try element(&self)
        } while try take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
    }

    /// Iterates a JSON object's members, calling `member` with each key, positioned at its value.
    private mutating func object(_ member: (inout TraceParser, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if try take(UInt8(ascii: "}")) { return }
        repeat {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
        } while try take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    mutating func integer() throws -> Int {
        try skipSpace()
        var negative = false
        if try peek() == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var value = 0
        var digits = 0
        while let byte = try peek(), byte >= 0x30 && byte <= 0x39 {
            value = value * 10 + Int(byte - 0x30)
            digits += 1
            position += 1
            guard digits <= 12 else { throw error("number too large") }
        }
        guard digits > 0 else { throw error("expected a number") }
        return negative ? -value : value
    }

    /// Reads a JSON string, appending its UTF-8 to `out`; returns its length in scalars.
    @discardableResult
    mutating func string(into out: inout [UInt8]) throws -> Int {
        try expect(UInt8(ascii: "\""))
        let start = out.count
        while true {
            let byte = try next()
            if byte == UInt8(ascii: "\"") { break }
            if byte != UInt8(ascii: "\\") {
                out.append(byte)
                continue
            }
            let escape = try next()
            switch escape {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if code >= 0xD800 && code < 0xDC00 {
                    try expect(UInt8(ascii: "\\"))
                    guard try next() == UInt8(ascii: "u") else { throw error("lone surrogate") }
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw error("bad surrogate pair") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                appendUTF8(scalar.value, to: &out)
            default: out.append(escape)
            }
        }
        // Validate the UTF-8 and count scalars (continuation bytes are not scalars).
        var scalars = 0
        var decoder = UTF8()
        var iterator = out[start...].makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: scalars += 1
            case .emptyInput: return scalars
            case .error: throw error("string is not valid UTF-8")
            }
        }
    }

    mutating func string() throws -> String {
        var buffer: [UInt8] = []
        swap(&buffer, &scratch)
        defer { swap(&buffer, &scratch) }
        buffer.removeAll(keepingCapacity: true)
        try string(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    private mutating func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = try next()
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw error("bad \\u escape")
            }
            value = value << 4 | digit
        }
        return value
    }

    /// Skips any JSON value.
    mutating func skipValue() throws {
        try skipSpace()
        switch try peek() {
        case UInt8(ascii: "{"): try object { parser, _ in try parser.skipValue() }
        case UInt8(ascii: "["): try array { parser in try parser.skipValue() }
        case UInt8(ascii: "\""):
            _ = try string()
        default:
            while let byte = try peek(), !(byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte <= 0x20) {
                position += 1
            }
        }
    }

    mutating func parseTrace(into trace: inout EditingTrace) throws {
        try object { parser, key in
            switch key {
            case "kind":
                let kind = try parser.string()
                guard let parsed = EditingTrace.Kind(rawValue: kind) else { throw parser.error("unknown trace kind \(kind)") }
                trace.kind = parsed
            case "startContent": trace.startContent = try parser.string()
            case "endContent": trace.endContent = try parser.string()
            case "numAgents":
                trace.agentCount = try parser.integer()
                guard trace.agentCount > 0 && trace.agentCount < 1 << 16 else { throw parser.error("bad numAgents") }
            case "txns": try parser.array { parser in try parser.parseTransaction(into: &trace) }
            default: try parser.skipValue()
            }
        }
    }

    mutating func parseTransaction(into trace: inout EditingTrace) throws {
        var agent: Int32 = -1
        var sawParents = false
        transactionPatches.removeAll(keepingCapacity: true)
        transactionPatchCount = 0
        try object { parser, key in
            switch key {
            case "patches":
                try parser.array { parser in
                    try parser.expect(UInt8(ascii: "["))
                    let position = try parser.integer()
                    try parser.expect(UInt8(ascii: ","))
                    let deleted = try parser.integer()
                    try parser.expect(UInt8(ascii: ","))
                    let start = trace.utf8.count
                    try parser.string(into: &trace.utf8)
                    try parser.expect(UInt8(ascii: "]"))
                    guard position >= 0, deleted >= 0, position < Int(Int32.max), deleted < Int(Int32.max), trace.utf8.count < Int(Int32.max) else {
                        throw parser.error("patch position or delete count out of range")
                    }
                    let textBytes = trace.utf8.count - start
                    EditingTrace.appendVarint(textBytes << 1 | (deleted > 0 ? 1 : 0), to: &parser.transactionPatches)
                    if deleted > 0 { EditingTrace.appendVarint(deleted, to: &parser.transactionPatches) }
                    trace.deletedCount += deleted
                    let change = position - parser.lastPosition
                    EditingTrace.appendVarint((change << 1) ^ (change >> 63), to: &parser.transactionPatches)
                    parser.lastPosition = position
                    parser.transactionPatchCount += 1
                }
            case "parents":
                sawParents = true
                try parser.array { parser in trace.parents.append(Int32(clamping: try parser.integer())) }
            case "agent":
                agent = Int32(clamping: try parser.integer())
            default: try parser.skipValue()
            }
        }
        EditingTrace.appendVarint(transactionPatchCount, to: &trace.stream)
        trace.stream.append(contentsOf: transactionPatches)
        trace.patchCount += transactionPatchCount
        trace.transactionCount += 1
        if sawParents { trace.parentEnds.append(Int32(trace.parents.count)) }
        if agent >= 0 { trace.agents.append(agent) }
    }
}
