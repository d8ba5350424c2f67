@testable import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// The fast path for hot messages must read and write exactly what the Codable path does.
@Suite(.ownThreads) struct FastCodecTests {
    /// The reference: what `MessageCodec` wrote before the fast path existed.
    static func codableBytes(_ message: WireMessage) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(message))
    }

    static func codableDecode(_ bytes: [UInt8]) -> WireMessage? {
        try? JSONDecoder().decode(WireMessage.self, from: Data(bytes))
    }

    static func fastDecode(_ bytes: [UInt8]) -> WireMessage? {
        bytes.withUnsafeBytes { FastCodec.decode($0)?.message }
    }

    /// Text with the characters JSON escaping cares about.
    static func randomText(_ random: inout SeededGenerator, maxLength: Int = 12) -> String {
        let pool: [Unicode.Scalar] = ["a", "Z", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{8}", "\u{C}",
                                      "\u{1F}", "\u{7F}", "é", "€", "\u{2028}", "🌍", "字", "\u{FEFF}", "<", "&"]
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 1...maxLength, using: &random) { scalars.append(pool.randomElement(using: &random)!) }
        return String(scalars)
    }

    /// Updates from real replicas: inserts, forward and backward deletes, several agents at once.
    static func randomUpdates(_ random: inout SeededGenerator, count: Int) -> [Update] {
        let agents = ["alice-3f2a1c", "bob-1b2c3d", "c\"a/r\\l"].map { Replica(agent: $0) }
        var updates: [Update] = []
        for _ in 0..<count {
            let replica = agents.randomElement(using: &random)!
            let length = replica.scalarCount
            let update: Update
            switch Int.random(in: 0..<6, using: &random) {
            case 0 where length > 2:
                update = replica.delete(at: Int.random(in: 0..<length, using: &random), count: Int.random(in: 1...3, using: &random))
            case 1 where length > 0:
                update = replica.updates(since: VersionVector())
            default:
                update = replica.insert(randomText(&random, maxLength: 6), at: Int.random(in: 0...length, using: &random))
            }
            if update.isEmpty { continue }
            updates.append(update)
            for other in agents where other !== replica { _ = try? other.apply(update) }
        }
        return updates
    }

    static func randomMessages(seed: UInt64, count: Int) -> [WireMessage] {
        var random = SeededGenerator(seed: seed)
        let updates = randomUpdates(&random, count: count)
        let anchorSource = Replica(agent: "anchor-1")
        _ = anchorSource.insert("some text", at: 0)
        let sentAts: [Double?] = [nil, 1_764_236_000_000.5, 1_764_236_000_000, 1_764_236_123_456.789, 0, -0.0, 0.25, 123.456, 1e-3, 1e16, .leastNonzeroMagnitude]
        var messages: [WireMessage] = []
        for (index, update) in updates.enumerated() {
            let peer = randomText(&random, maxLength: 8)
            switch index % 5 {
            case 0, 1:
                messages.append(.ops(Ops(peer: peer, seq: Int.random(in: 0...1_000_000, using: &random), update: update,
                                         sentAt: sentAts.randomElement(using: &random)!)))
            case 2:
                messages.append(.ack(Ack(seq: Int.random(in: -5...Int(Int32.max), using: &random))))
                messages.append(index % 2 == 0 ? .ping(Ping(id: index)) : .pong(Ping(id: -index)))
            default:
                let cursor = Bool.random(using: &random) ? anchorSource.anchor(at: Int.random(in: 0...9, using: &random), bias: .left) : nil
                let mark = Bool.random(using: &random) ? anchorSource.anchor(at: Int.random(in: 0...9, using: &random), bias: .right) : nil
                // A shared folder's presence names its file (any text: the codecs must agree on it all the same).
                let file = Bool.random(using: &random) ? randomText(&random) : nil
                messages.append(.presence(PresenceInfo(peer: peer, name: randomText(&random), colour: Int.random(in: 0...7, using: &random),
                                                       cursor: cursor, mark: mark, file: file)))
            }
        }
        return messages
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func fastEncodingIsByteForByteTheCodableEncoding(seed: UInt64) throws {
        for message in Self.randomMessages(seed: seed, count: 300) {
            // A sentAt that JSONEncoder writes in exponent form (or as -0) is left to it.
            guard let fast = FastCodec.encode(message) else {
                guard case .ops(let ops) = message, let sentAt = ops.sentAt, sentAt == 0 || abs(sentAt) >= 1e15 || abs(sentAt) < 1e-4 else {
                    Issue.record("no fast encoding for \(message)")
                    continue
                }
                #expect(try MessageCodec.encode(message) == (try Self.codableBytes(message)))
                continue
            }
            #expect(fast == (try Self.codableBytes(message)), "\(String(decoding: fast, as: UTF8.self))")
        }
    }

    @Test(arguments: [4, 5, 6] as [UInt64])
    func fastDecodingReadsWhatCodableReads(seed: UInt64) throws {
        for message in Self.randomMessages(seed: seed, count: 300) {
            let bytes = try Self.codableBytes(message)
            #expect(Self.codableDecode(bytes) == message)
            guard let fast = Self.fastDecode(bytes) else {
                // Only a number in exponent form (a sentAt like 1e+16) is left to the Codable path.
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.range(of: #""sentAt":-?[0-9.]+e"#, options: .regularExpression) != nil, "fast path gave up on \(text)")
                continue
            }
            #expect(fast == message)
        }
    }

    /// Damaged frames: the fast path either reads what the Codable path reads, or leaves it to it.
    @Test(arguments: [7, 8, 9, 10, 11, 12] as [UInt64])
    func damagedFramesAreReadAlikeOrLeftToCodable(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let samples = try Self.randomMessages(seed: seed, count: 120).map(Self.codableBytes)
        let alphabet = Array(#"{}[]:,"\-0123456789.eE+ ntrufalsu\/abopsyqkcr"#.utf8) + [0, 0x1F, 0xC3, 0xFF, 0xED, 0xA0]
        var fastAccepted = 0
        for _ in 0..<6000 {
            var bytes = samples.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[position] = alphabet.randomElement(using: &random)!
                case 1: bytes.remove(at: position)
                case 2: bytes.insert(alphabet.randomElement(using: &random)!, at: position)
                default: bytes = Array(bytes[..<position])
                }
                if bytes.isEmpty { bytes = [UInt8(ascii: "{")] }
            }
            // Whatever the damage, the full decoder answers (a message or a MessageError), never a crash.
            do { _ = try MessageCodec.decode(bytes) } catch { #expect(error is MessageError) }
            guard let fast = Self.fastDecode(bytes) else { continue }
            fastAccepted += 1
            let reference = Self.codableDecode(bytes)
            #expect(reference == fast, "fast path read \(String(decoding: bytes, as: UTF8.self)) differently")
        }
        // Some damage (a changed digit or letter) leaves a valid message; the check above must have run.
        #expect(fastAccepted > 100)
    }

    /// Random nesting around the depth cap, with strings full of brackets and escaped quotes: the
    /// scanner (which guards Foundation's decoder) and the parser (the fast path) agree on the caps,
    /// and `MessageCodec` refuses exactly the frames over them, on either path.
    @Test(arguments: [13, 14, 15] as [UInt64])
    func scannerAndParserAgreeOnTheCaps(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let strings = [#""]}\"[{""#, #""\\""#, #""a,b:c""#, #""\u005d""#, "\"é🌍\""]
        let scalars = ["0", "-1.5e3", "true", "null", "false", "12345678901234567890"]
        /// JSON nested at most to `target` containers (counting from `depth`); returns it and its real nesting.
        func value(_ depth: Int, _ target: Int) -> (text: String, nesting: Int) {
            if depth >= target { return (Bool.random(using: &random) ? strings.randomElement(using: &random)! : scalars.randomElement(using: &random)!, depth) }
            let members = (0..<Int.random(in: 1...3, using: &random)).map { index in
                index == 0 ? value(depth + 1, target) : value(depth + 1, min(target, depth + Int.random(in: 1...3, using: &random)))
            }
            let nesting = members.map(\.nesting).max()!
            if Bool.random(using: &random) { return ("[" + members.map(\.text).joined(separator: " , ") + "]", nesting) }
            return ("{" + members.enumerated().map { "\"k\($0.offset)\" :\($0.element.text)" }.joined(separator: ",") + "}", nesting)
        }
        var refused = 0
        for _ in 0..<300 {
            // The frame's own object is one container: the value inside adds up to `target - 1` more.
            let (inner, nesting) = value(1, Int.random(in: 26...38))
            let text = "{\"type\":\"ping\",\"id\":1,\"x\":" + inner + "}"
            let bytes = Array(text.utf8)
            let (parsed, scanned) = bytes.withUnsafeBytes { raw -> (String?, String?) in
                var parser = JSONParser(bytes: raw)
                _ = parser.parseDocument()
                return (parser.violation, JSONScanner.violation(in: raw))
            }
            let overCap = nesting > ParseLimits.maxDepth
            #expect((scanned != nil) == overCap, "scanner: \(String(describing: scanned)) at nesting \(nesting)")
            // The parser stops early at what it leaves to Foundation (an exponent, a huge number);
            // when it does reach the depth, it agrees.
            if parsed != nil { #expect(overCap, "parser: \(String(describing: parsed)) at nesting \(nesting)") }
            // The same frame with a duplicate key goes to the Codable path: refused alike.
            for frame in [bytes, Array(("{\"id\":1," + text.dropFirst()).utf8)] {
                do {
                    _ = try MessageCodec.decode(frame)
                    #expect(!overCap, "a frame nested \(nesting) deep was accepted")
                } catch let error as MessageError {
                    #expect((error.code == .limit) == overCap, "\(error)")
                    if error.code == .limit { refused += 1 }
                }
            }
        }
        #expect(refused > 100)
    }

    @Test(arguments: [
        #"{"type":"ops","peer":"a-1","seq":1,"update":{"a":["a-1"],"o":[[0,0,0,-1,0,-1,0,"x"]]},"peer":"b-2"}"#,  // duplicate key
        #"{"type":"ops","peer":"a-1","seq":1.5,"update":{"a":["a-1"],"o":[[0,0,0,-1,0,-1,0,"x"]]}}"#,
        #"{"type":"ops","peer":"a-1","seq":1,"update":{"a":["a-1"],"o":[[0,0,0,-1,0,-1,0,""]]}}"#,  // empty insert
        #"{"type":"ops","peer":"a-1","seq":1,"update":{"a":["a-1"],"o":[[1,0,0,0,3]]}}"#,  // cut delete span
        #"{"type":"ops","peer":"a-1","seq":1,"update":{"a":["a-1"],"o":[[0,1,0,-1,0,-1,0,"x"]]}}"#,  // agent out of range
        #"{"type":"ops","peer":"a-1","seq":1,"update":{"a":["a-1"],"o":[[1,0,0,0,-9223372036854775807,-5]]}}"#,
        #"{"type":"ops","peer":"a-1","seq":1,"sentAt":5e-3241,"update":{"a":["a-1"],"o":[[0,0,0,-1,0,-1,0,"x"]]}}"#,
        #"{"type":"ack","seq":01}"#, #"{"type":"ack","seq":"1"}"#, #"{"type":"ping"}"#, #"{"type":"welcome"}"#,
        "{\"type\":\"ack\",\"seq\":1}\u{0}", "[1]", "",
    ])
    func unusualFramesAreLeftToTheCodablePath(payload: String) {
        #expect(Self.fastDecode(Array(payload.utf8)) == nil)
    }

    @Test func spacingKeyOrderEscapesAndUnknownFieldsAreRead() throws {
        let payload = #" { "update" : {"o":[[0,0,4,-1,0,-1,0,"h\u00e9\ud83c\udf0d\n"]], "z": 1, "a":["al\/ice"]}, "seq": 9, "t\u0079pe" : "ops", "peer":"al/ice", "sentAt": 1700.25, "new": [true, null, {}] } "#
        let bytes = Array(payload.utf8)
        let fast = try #require(Self.fastDecode(bytes))
        #expect(fast == Self.codableDecode(bytes))
        guard case .ops(let ops) = fast else { Issue.record("not ops"); return }
        #expect(ops.sentAt == 1700.25)
        #expect(ops.update.operationCount == 4)  // h, é, 🌍, newline
    }

    @Test func theUpdateRangeHoldsTheUpdatesOwnJSON() throws {
        let replica = Replica(agent: "alice-1")
        let update = replica.insert("hello", at: 0)
        let bytes = try MessageCodec.encode(.ops(Ops(peer: "alice-1", seq: 1, update: update, sentAt: 5)))
        let (message, range) = try MessageCodec.decodeKeepingUpdate(bytes)
        #expect(message == .ops(Ops(peer: "alice-1", seq: 1, update: update, sentAt: 5)))
        let slice = try #require(range.map { Array(bytes[$0]) })
        #expect(try JSONDecoder().decode(Update.self, from: Data(slice)) == update)
    }

    @Test func otherMessagesStillUseTheCodablePath() throws {
        let message = WireMessage.runOutput(RunOutputMessage(run: "r1", stream: .stdout, text: "1\n"))
        #expect(FastCodec.encode(message) == nil)
        #expect(try MessageCodec.encode(message) == (try Self.codableBytes(message)))
        #expect(try MessageCodec.decode(MessageCodec.encode(message)) == message)
    }

    @Test func journalRecordsWrittenFromBytesAreRecovered() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-fastjournal-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("journal.csj")
        let hub = Replica(agent: "hub-1")
        let header = JournalHeader(file: "/tmp/x.txt", session: "s", secret: "k", port: 1)
        let journal = try Journal(url: url, header: header, replica: hub)
        let writer = Replica(agent: "w-1")
        var random = SeededGenerator(seed: 11)
        for step in 0..<200 {
            let update = step % 7 == 6 && writer.scalarCount > 0
                ? writer.delete(at: Int.random(in: 0..<writer.scalarCount, using: &random), count: 1)
                : writer.insert(Self.randomText(&random, maxLength: 3), at: Int.random(in: 0...writer.scalarCount, using: &random))
            _ = try hub.apply(update)
            if step % 2 == 0 {
                try journal.append(updateJSON: try Self.codableBytes(.ops(Ops(peer: "w-1", seq: step, update: update))).withUnsafeBytes { raw in
                    let (_, range) = try MessageCodec.decodeKeepingUpdate(Array(raw))
                    return Array(raw[try #require(range)])
                })
            } else {
                try journal.append(update)
            }
        }
        journal.close()
        let recovered = try #require(try Journal.recover(url: url, agent: "hub-2"))
        #expect(recovered.updates == 200)
        #expect(recovered.replica.text == writer.text)
    }
}
