import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// Hostile updates against a live host over loopback (issue 12, rows 1 and 3, document size, waiting
/// runs): an authenticated raw client sends them while two honest peers edit. The host stays up, the
/// offender hears why, nothing of a refused update reaches the document, the journal, the saved file or
/// the honest peers, and the honest peers converge.
@Suite(.ownThreads, .timeLimit(.minutes(1))) struct HostileDocumentTests {
    /// The raw client sends no pings: a long silence allowance (see FaultTests).
    static func limits(_ change: (inout DocumentLimits) -> Void = { _ in }) -> SessionLimits {
        var limits = fastLimits()
        limits.deadAfter = .seconds(60)
        limits.handshakeTimeout = .seconds(60)
        change(&limits.document)
        return limits
    }

    struct Session {
        let server: SessionServer
        let alice: CollaborationPeer
        let bob: CollaborationPeer
        let journalURL: URL
    }

    /// A host with a journal and the text "start", two honest peers, `attack`, then both peers edit and
    /// must converge without a trace of `forbidden`; the server's text, its saved file and its journal
    /// agree with them.
    func withSession(limits: SessionLimits = limits(), forbidden: String, _ attack: (Session) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-hostile-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let journalURL = directory.appendingPathComponent("journal.csj")
        let server = try await SessionServer.host(sessionID: "test", secret: "s3cret", bind: "127.0.0.1", port: 0, limits: limits) {
            let replica = Replica(agent: "hub")
            replica.insert("start", at: 0)
            let journal = try Journal(url: journalURL, header: JournalHeader(file: "/tmp/x.txt", session: "test", secret: "s3cret", port: 1), replica: replica)
            return (replica, journal)
        }
        let alice = try await join(server, name: "alice", limits: limits)
        let bob = try await join(server, name: "bob", limits: limits)
        try await attack(Session(server: server, alice: alice, bob: bob, journalURL: journalURL))
        alice.insert(" alice", at: alice.scalarCount)
        bob.insert("bob ", at: 0)
        let fine = await eventually(peers: [alice, bob]) {
            alice.isConnected && bob.isConnected && alice.isSynced && bob.isSynced && alice.text == bob.text && alice.text.contains("alice")
                && alice.text.contains("bob")
        }
        #expect(fine, "honest peers disturbed: \(alice.text) / \(bob.text)")
        let serverText = await server.text()
        #expect(serverText == alice.text)
        #expect(!alice.text.contains(forbidden) && !bob.text.contains(forbidden), "a refused edit reached a peer: \(alice.text)")
        let saved = directory.appendingPathComponent("saved.txt")
        try await server.save(to: saved)
        let file = try String(contentsOf: saved, encoding: .utf8)
        #expect(file == serverText && !file.contains(forbidden))
        await alice.close(); await bob.close(); await server.shutdown()
        let recovered = try Journal.recover(url: journalURL, agent: "check")
        #expect(recovered?.replica.text == serverText, "the journal does not replay to the document")
    }

    /// Sends one `ops` frame as `raw-1` and returns the first answer that is about it.
    func send(_ raw: RawClient, seq: Int, agents: [String] = ["raw-1"], ops: String) async -> WireMessage? {
        raw.write(raw.frame(Array(#"{"type":"ops","peer":"raw-1","seq":\#(seq),"update":{"a":\#(jsonArray(agents)),"o":[\#(ops)]}}"#.utf8)))
        while let message = await raw.read() {
            switch message {
            case .ack, .refused, .error: return message
            default: continue
            }
        }
        return nil
    }

    func jsonArray(_ names: [String]) -> String { "[" + names.map { "\"\($0)\"" }.joined(separator: ",") + "]" }

    /// Row 1: this frame killed the host (an Int32 overflow in the replica). Also a span the JSON decoders
    /// pass and only the document can refuse (an operation number no document can reach).
    @Test func row1DeleteSpanAtTheEndOfInt32() async throws {
        for span in ["0,2147483646,2", "0,100000000,2"] {
            try await withSession(forbidden: "EVIL") { session in
                let raw = try RawClient(port: session.server.port)
                #expect(try await raw.authenticate() != nil)
                let answer = await send(raw, seq: 1, ops: "[1,0,0,\(span)]")
                guard case .error(let error)? = answer else {
                    Issue.record("expected an error, got \(String(describing: answer))")
                    return
                }
                #expect(error.code == .json || error.code == .document, "\(error)")
                #expect(error.message.contains("range") || error.message.contains("update"), "\(error.message)")
                #expect(await raw.isClosedByServer())
                #expect(await session.server.text() == "start")
            }
        }
    }

    /// Row 3: a valid insert first, a malformed op last. Nothing of it may stay anywhere.
    @Test func row3ValidInsertThenMalformedOp() async throws {
        try await withSession(forbidden: "EVIL") { session in
            let raw = try RawClient(port: session.server.port)
            #expect(try await raw.authenticate() != nil)
            // raw-1:0 deletes hub:0 (the "s"): a real delete, so raw-1:0 is not a character.
            let first = await send(raw, seq: 1, agents: ["raw-1", "hub"], ops: "[1,0,0,1,0,1]")
            guard case .ack? = first else {
                Issue.record("the valid delete was not acknowledged: \(String(describing: first))")
                return
            }
            #expect(await eventually(peers: [session.alice, session.bob]) { session.alice.text == "tart" && session.bob.text == "tart" })
            // raw-1:1...4 insert "EVIL" (valid), then raw-1:5 names the delete raw-1:0 as its origin.
            let answer = await send(raw, seq: 2, ops: #"[0,0,1,-1,0,-1,0,"EVIL"],[0,0,5,0,0,-1,0,"x"]"#)
            guard case .error(let error)? = answer else {
                Issue.record("expected an error, got \(String(describing: answer))")
                return
            }
            #expect(error.code == .document)
            #expect(error.message.contains("not an insert"), "\(error.message)")
            #expect(await raw.isClosedByServer())
            #expect(await session.server.text() == "tart")
        }
    }

    @Test func oversizedDocumentIsRefused() async throws {
        let limits = Self.limits { $0.maxScalars = 40 }
        try await withSession(limits: limits, forbidden: "EVIL") { session in
            let raw = try RawClient(port: session.server.port)
            #expect(try await raw.authenticate() != nil)
            let big = String(repeating: "EVIL", count: 10)
            let answer = await send(raw, seq: 1, ops: #"[0,0,0,-1,0,-1,0,"\#(big)"]"#)
            guard case .refused(let refused)? = answer else {
                Issue.record("expected refused, got \(String(describing: answer))")
                return
            }
            #expect(refused.what == "ops")
            #expect(refused.message.contains("limit of 40 characters"), "\(refused.message)")
            #expect(await session.server.text() == "start")
            // Later edits on that connection are refused too (they may build on the refused one).
            let later = await send(raw, seq: 2, ops: #"[0,0,0,-1,0,-1,0,"EVIL"]"#)
            guard case .refused? = later else {
                Issue.record("expected refused, got \(String(describing: later))")
                return
            }
        }
    }

    /// A hub holds no waiting runs by default: an op that depends on something the server lacks is refused.
    @Test func opsThatWouldWaitAreRefusedByDefault() async throws {
        try await withSession(forbidden: "EVIL") { session in
            let raw = try RawClient(port: session.server.port)
            #expect(try await raw.authenticate() != nil)
            // A valid first run, then one that waits for raw-1's operations 4...99, which never come.
            let answer = await send(raw, seq: 1, ops: #"[0,0,0,-1,0,-1,0,"EVIL"],[0,0,100,-1,0,-1,0,"EVIL"]"#)
            guard case .refused(let refused)? = answer else {
                Issue.record("expected refused, got \(String(describing: answer))")
                return
            }
            #expect(refused.message.contains("does not have"), "\(refused.message)")
            #expect(await session.server.text() == "start")
        }
    }

    @Test func waitingRunsAreCapped() async throws {
        let limits = Self.limits { $0.maxWaitingRuns = 2 }
        try await withSession(limits: limits, forbidden: "EVIL") { session in
            let raw = try RawClient(port: session.server.port)
            #expect(try await raw.authenticate() != nil)
            // Each waits for raw-1's earlier operations, which never come.
            for (seq, start) in [(1, 100), (2, 200)] {
                let answer = await send(raw, seq: seq, ops: #"[0,0,\#(start),-1,0,-1,0,"EVIL"]"#)
                guard case .ack? = answer else {
                    Issue.record("expected an ack, got \(String(describing: answer))")
                    return
                }
            }
            let answer = await send(raw, seq: 3, ops: #"[0,0,300,-1,0,-1,0,"EVIL"]"#)
            guard case .refused(let refused)? = answer else {
                Issue.record("expected refused, got \(String(describing: answer))")
                return
            }
            #expect(refused.message.contains("waiting"), "\(refused.message)")
            #expect(await session.server.text() == "start")
        }
    }
}
