import CodeSyncProtocol
import CodeSyncTestSupport
import Testing

@Suite(.ownThreads) struct StateCodecTests {
    /// Decodes `replica`'s state into a fresh replica and checks it is the same document: text, version,
    /// the same bytes when encoded again, and the same operations served to a peer that has nothing.
    private func expectRoundTrip(_ replica: Replica, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let state = replica.encodeState()
        let decoded = try Replica(agent: "decoded", state: state)
        #expect(decoded.text == replica.text, sourceLocation: sourceLocation)
        #expect(decoded.version == replica.version, sourceLocation: sourceLocation)
        #expect(decoded.encodeState() == state, sourceLocation: sourceLocation)
        let peer = Replica(agent: "peer")
        try peer.apply(decoded.updates(since: VersionVector()))
        #expect(peer.text == replica.text, sourceLocation: sourceLocation)
        #expect(peer.pendingCount == 0, sourceLocation: sourceLocation)
    }

    @Test func runLengthsAcrossVarintBoundaries() throws {
        // Run lengths share a varint with a 5-bit header: 3 → 1 byte, 4 → 2 bytes, 511/512, 16383/16384 ...
        for length in [1, 3, 4, 127, 128, 511, 512, 16_383, 16_384, 70_000] {
            let r = Replica(agent: "a")
            r.insert(String(repeating: "x", count: length), at: 0)
            try expectRoundTrip(r)
            r.delete(at: length / 2, count: max(1, length / 3))
            try expectRoundTrip(r)
        }
    }

    @Test func distancesAcrossVarintBoundaries() throws {
        // Origins and delete targets are written as distances from the operation's own number; make
        // those distances cross the 1-, 2- and 3-byte varint limits (with the flag bit: 31/32, 4095/4096...).
        for gap in [30, 31, 32, 63, 64, 4_095, 4_096, 524_288] {
            let r = Replica(agent: "a")
            r.insert("ab", at: 0)
            r.insert(String(repeating: "-", count: gap), at: 2)  // pushes later operation numbers away
            r.delete(at: 2, count: gap)
            r.insert("X", at: 1)  // origins "a" and "b"
            r.insert("Y", at: 1)  // now "a" is no longer X's neighbour: X's left origin is written explicitly
            r.insert("Z", at: 3)  // and "b" no longer follows X: so is its right origin, far back as well
            r.delete(at: 0, count: 1)  // a delete whose target, operation 0, is far back too
            #expect(r.text == "YXZb")
            try expectRoundTrip(r)
        }
    }

    @Test func nonASCIIContentAndDeletedRuns() throws {
        let r = Replica(agent: "a")
        r.insert("e\u{301}👨‍👩‍👧中文🇫🇷\r\nŻółw", at: 0)
        r.delete(at: 1, count: 1)  // the combining accent
        r.insert("😀😀", at: 4)
        r.delete(at: 6, count: 3)  // a run of deleted emoji/CJK whose text is not stored
        r.insert("末", at: r.scalarCount)
        for _ in 0..<3 { r.delete(at: r.scalarCount - 1, count: 1) }  // backspaces: one backward span
        try expectRoundTrip(r)
        #expect(try Replica(agent: "b", state: r.encodeState()).text == r.text)
    }

    @Test func manyAgentsWithConcurrentEditsAndDeletes() throws {
        // Origins and delete targets naming other agents exercise the "agent follows" flag paths.
        var rng = SeededGenerator(seed: 42)
        let replicas = (0..<5).map { Replica(agent: "agent-\($0)") }
        let alphabet = ["a", "bc", "😀", "中", "\n", "e\u{301}"]
        for round in 0..<60 {
            for replica in replicas {
                if replica.scalarCount > 2 && Bool.random(using: &rng) {
                    let offset = Int.random(in: 0..<replica.scalarCount, using: &rng)
                    replica.delete(at: offset, count: Int.random(in: 1...4, using: &rng))
                } else {
                    replica.insert(alphabet.randomElement(using: &rng) ?? "a", at: Int.random(in: 0...replica.scalarCount, using: &rng))
                }
            }
            if round % 3 == 0 {
                for a in replicas { for b in replicas where a !== b { try b.apply(a.updates(since: b.version)) } }
            }
        }
        for a in replicas { for b in replicas where a !== b { try b.apply(a.updates(since: b.version)) } }
        for replica in replicas {
            #expect(replica.text == replicas[0].text)
            try expectRoundTrip(replica)
        }
    }

    @Test func formatOneStatesStillDecode() throws {
        // Written by format 1 (before origins and delete targets carried agent flags): a joined "b" typed
        // "[b]" and deleted two characters, "a" deleted three.
        let formatOne: [UInt8] = [
            67, 83, 68, 1, 2, 1, 97, 1, 98, 19, 5, 3, 0, 0, 0, 5, 10, 1, 0, 3, 4, 0, 0, 11, 5, 1, 3, 7, 2, 6, 22,
            104, 111, 91, 98, 93, 32, 119, 195, 182, 100, 32, 240, 159, 152, 128, 32, 228, 184, 173, 230, 150, 135,
            2, 0, 16, 1, 0, 30, 6, 1, 3, 1, 0, 9, 4,
        ]
        let r = try Replica(agent: "c", state: formatOne)
        #expect(r.text == "ho[b] wöd 😀 中文")
        #expect(r.version == VersionVector(["a": 19, "b": 5]))
        #expect(r.encodeState() != formatOne)  // re-encoded in the current format
        try expectRoundTrip(r)
        var unknown = formatOne
        unknown[3] = 9
        #expect(throws: DocumentError.self) { try Replica(agent: "c", state: unknown) }
    }
}
