@_spi(Wire) import CodeSyncDocument
@testable import CodeSyncProtocol
import Testing
import CodeSyncTestSupport

/// The socket-free peer core, driven without a network: cores wired to a small in-memory hub
/// through message queues that the test delivers, drops and reorders at will. (The real server and
/// TCP are tested with the shell in SessionTests, RolesTests and the hostile suites.)
@Suite(.ownThreads, .timeLimit(.minutes(2))) struct PeerCoreTests {
    /// What a session server does for the core, in memory: one document, access per member,
    /// `ops` stored, acked and forwarded, a refused member's later ops refused too (as the hub does).
    final class MemoryHub {
        struct Member {
            let core: PeerCore
            var access: GuestAccess
            /// Messages on their way to the member (hub → core), in order.
            var down: [WireMessage] = []
            /// Messages on their way to the hub (core → hub), in order.
            var up: [WireMessage] = []
            var linked = false
            var refusedBefore = false
        }

        let document = Replica(agent: "hub")
        var members: [AgentID: Member] = [:]
        var presence: [AgentID: PresenceInfo] = [:]
        var colours = 0

        func add(_ core: PeerCore, access: GuestAccess = .editRun) {
            members[core.id] = Member(core: core, access: access)
        }

        /// The handshake: the hello's version vector, then the welcome with what the member lacks.
        func connect(_ id: AgentID) {
            guard var member = members[id] else { return }
            let known = member.core.helloKnown(fitting: 4096)
            colours += 1
            let welcome = Welcome(version: WireProtocol.version, session: "mem", peer: id, colour: colours, proof: "",
                                  peers: presence.values.filter { $0.peer != id }, update: document.updates(since: known),
                                  known: document.version, access: member.access, guests: .editRun)
            member.linked = true
            member.refusedBefore = false
            member.down = []
            member.up = []
            members[id] = member
            queue(from: id, member.core.welcomed(welcome))
        }

        /// The link breaks: whatever was in flight either way is lost.
        func drop(_ id: AgentID) -> PeerCore.LinkDecision? {
            guard var member = members[id] else { return nil }
            member.linked = false
            member.up = []
            member.down = []
            members[id] = member
            return member.core.linkLost(reason: "connection reset", fatal: false, reconnect: true)
        }

        func queue(from id: AgentID, _ out: PeerCore.Output) {
            guard members[id]?.linked == true else { return }
            members[id]?.up += out.send
        }

        /// Delivers the oldest message from `id` to the hub; false when none waits.
        @discardableResult
        func deliverUp(_ id: AgentID) -> Bool {
            guard let member = members[id], !member.up.isEmpty else { return false }
            let message = members[id]!.up.removeFirst()
            switch message {
            case .ops(let ops):
                guard member.access.canEdit, !member.refusedBefore else {
                    members[id]?.refusedBefore = true
                    members[id]?.down.append(.refused(Refused(what: "ops", message: "you may only watch this session: your edit was not applied")))
                    return true
                }
                _ = try? document.apply(ops.update)
                members[id]?.down.append(.ack(Ack(seq: ops.seq)))
                broadcast(.ops(ops), except: id)
            case .presence(let info):
                presence[id] = info
                broadcast(.presence(info), except: id)
            default:
                break
            }
            return true
        }

        /// Delivers the oldest message from the hub to `id`; false when none waits.
        @discardableResult
        func deliverDown(_ id: AgentID) -> Bool {
            guard let member = members[id], !member.down.isEmpty else { return false }
            let message = members[id]!.down.removeFirst()
            let out = member.core.receive(message)
            queue(from: id, out)
            if out.dropLinkAfterMs != nil, case .reconnect = drop(id) { connect(id) }
            return true
        }

        func broadcast(_ message: WireMessage, except sender: AgentID) {
            for id in members.keys where id != sender && members[id]!.linked { members[id]!.down.append(message) }
        }

        /// Delivers everything both ways until nothing is in flight, and applies it.
        func settle() {
            var moved = true
            while moved {
                moved = false
                for id in members.keys.sorted() {
                    while deliverUp(id) { moved = true }
                    while deliverDown(id) { moved = true }
                }
            }
            for member in members.values { _ = member.core.poll() }
        }
    }

    private static func core(_ id: AgentID, role: PeerRole = .guest, text: String = "") -> PeerCore {
        let replica = Replica(agent: id)
        if !text.isEmpty { replica.insert(text, at: 0) }
        return PeerCore(config: .init(id: id, name: id, role: role), replica: replica)
    }

    private static func errors(_ events: [PeerEvent]) -> [String] {
        events.compactMap { if case .error(let text) = $0 { text } else { nil } }
    }

    /// A small deterministic generator, so a failing seed can be replayed.
    struct SplitMix {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func threeCoresConvergeUnderInterleavedEditsAndDeliveries(seed: Int) {
        let hub = MemoryHub()
        let cores = ["ann", "bob", "cat"].map { Self.core($0) }
        for core in cores { hub.add(core); hub.connect(core.id) }
        hub.settle()
        var random = SplitMix(state: UInt64(seed))
        for _ in 0..<600 {
            let core = cores[random.next(3)]
            switch random.next(6) {
            case 0, 1:
                let offset = random.next(core.scalarCount + 1)
                hub.queue(from: core.id, core.insert(["a", "bc", "\n", "é", "🙂"][random.next(5)], at: offset))
            case 2:
                if core.scalarCount > 0 {
                    hub.queue(from: core.id, core.delete(at: random.next(core.scalarCount), count: 1 + random.next(3)))
                }
            case 3:
                hub.queue(from: core.id, core.setPresence(cursor: random.next(core.scalarCount + 1), selection: nil))
            case 4:
                hub.deliverUp(core.id)
            default:
                hub.deliverDown(core.id)
                // Offsets the owner computes stay valid until it polls: it polls now and then.
                if random.next(2) == 0 { _ = core.poll() }
            }
        }
        hub.settle()
        let expected = hub.document.text
        #expect(!expected.isEmpty, "seed \(seed): no edit reached the hub")
        for core in cores {
            #expect(core.text == expected, "seed \(seed): \(core.id) diverged")
            #expect(core.isSynced, "seed \(seed): \(core.id) has edits the hub never acknowledged")
        }
        // Each sees the other two, where they last put their carets (resolved against the same text).
        let seen = Set(cores.map { $0.presences.map(\.id).sorted() })
        #expect(seen == Set([["bob", "cat"], ["ann", "cat"], ["ann", "bob"]]), "\(seen)")
    }

    @Test func lostMessagesAreResentAfterReconnecting() {
        let hub = MemoryHub()
        let ann = Self.core("ann"), bob = Self.core("bob")
        hub.add(ann); hub.add(bob)
        hub.connect("ann"); hub.connect("bob")
        hub.settle()
        hub.queue(from: "ann", ann.insert("hello ", at: 0))
        hub.queue(from: "bob", bob.insert("world", at: 0))
        hub.deliverUp("bob")
        // Ann's edit and Bob's forwarded one are in flight when Ann's link breaks: both are lost.
        #expect(hub.members["ann"]!.up.count == 1 && hub.members["ann"]!.down.count == 1)
        #expect(hub.drop("ann") == .reconnect(attempt: 1))
        #expect(!ann.isSynced)
        // Offline edits wait for the next welcome.
        hub.queue(from: "ann", ann.insert("!", at: ann.scalarCount))
        #expect(hub.members["ann"]!.up.isEmpty)
        let events = ann.poll()
        #expect(events.contains(.connection(.reconnecting(attempt: 1, reason: "connection reset"))), "\(events)")
        hub.connect("ann")
        // The welcome's version vectors say what each side lacks: Ann sends both of her edits.
        #expect(hub.members["ann"]!.up.count == 1, "\(hub.members["ann"]!.up)")
        hub.settle()
        #expect(ann.text == hub.document.text && bob.text == hub.document.text)
        #expect(hub.document.text.contains("hello ") && hub.document.text.contains("world") && hub.document.text.contains("hello !"))
        #expect(ann.isSynced && bob.isSynced)
    }

    @Test func acksOnlyMoveForwardOverWhatWasSent() {
        let hub = MemoryHub()
        let ann = Self.core("ann")
        hub.add(ann)
        hub.connect("ann")
        _ = ann.poll()
        for letter in ["a", "b", "c"] { hub.queue(from: "ann", ann.insert(letter, at: ann.scalarCount)) }
        #expect(hub.members["ann"]!.up.count == 3)
        // An ack for a seq never sent (a hostile or broken server) does not make the edits look stored.
        #expect(ann.receive(.ack(Ack(seq: 1_000_000))) == PeerCore.Output())
        #expect(ann.receive(.ack(Ack(seq: Int.max))) == PeerCore.Output())
        #expect(!ann.isSynced)
        // Reordered and repeated acks: the highest one counts, an older one never moves it back.
        #expect(ann.receive(.ack(Ack(seq: 2))).notify)
        #expect(ann.receive(.ack(Ack(seq: 1))) == PeerCore.Output())
        #expect(ann.receive(.ack(Ack(seq: 2))) == PeerCore.Output())
        #expect(ann.receive(.ack(Ack(seq: -5))) == PeerCore.Output())
        #expect(!ann.isSynced)
        #expect(ann.receive(.ack(Ack(seq: 3))).notify)
        #expect(ann.isSynced)
        // A new link numbers from 1 again: the old link's acks count for nothing on it.
        _ = hub.drop("ann")
        hub.queue(from: "ann", ann.insert("d", at: 0))
        hub.connect("ann")
        #expect(!ann.isSynced)
        hub.settle()
        #expect(ann.isSynced && ann.text == "dabc" && hub.document.text == "dabc")
    }

    @Test func aRefusedEditIsRolledBackAndReported() {
        let hub = MemoryHub()
        let host = Self.core("host", role: .host)
        let vic = Self.core("vic")
        hub.add(host)
        hub.add(vic, access: .view)
        hub.connect("host")
        hub.queue(from: "host", host.insert("hello\n", at: 0))
        hub.connect("vic")
        hub.settle()
        #expect(vic.text == "hello\n" && vic.access == .view)

        // A watcher's edit made anyway (a client that ignores its role): applied locally, sent, refused.
        hub.queue(from: "vic", vic.insert("HACKED ", at: 0))
        #expect(vic.text == "HACKED hello\n")
        hub.deliverUp("vic")
        let refusal = vic.receive(hub.members["vic"]!.down.removeFirst())
        #expect(refusal.dropLinkAfterMs == 200, "the refusal did not ask for the document to be reloaded")
        #expect(vic.resyncing && vic.access == .view)
        // While the document reloads, an edit would be thrown away with the replica: it is not made.
        _ = vic.insert("LOST", at: 0)
        #expect(vic.text == "HACKED hello\n")
        var events = vic.poll()
        #expect(Self.errors(events).contains { $0.contains("refused your ops") }, "\(events)")
        #expect(Self.errors(events).contains { $0.contains("being reloaded") && $0.contains("not made") }, "\(events)")
        // The link is dropped; the reconnect asks for the whole document, which replaces the replica.
        #expect(vic.linkLost(reason: "closed", fatal: false, reconnect: false) == .reconnect(attempt: 1), "a reload is owed even without reconnecting")
        #expect(vic.helloKnown(fitting: 4096) == VersionVector())
        hub.members["vic"]!.linked = false
        hub.connect("vic")
        #expect(hub.members["vic"]!.up.isEmpty, "the refused edit was sent again")
        events = vic.poll()
        #expect(events.contains(.textChanged([TextChange(offset: 0, deleted: 13, inserted: "hello\n")])), "\(events)")
        #expect(vic.text == "hello\n" && !vic.resyncing && hub.document.text == "hello\n")
        #expect(events.contains(.connection(.reconnecting(attempt: 1, reason: "reloading the document after a refused edit"))), "\(events)")
        // The host's own refusals never trigger a reload (the host's document is the truth).
        #expect(host.receive(.refused(Refused(what: "ops", message: "no"))).dropLinkAfterMs == nil)
    }

    @Test func aRoleChangeToReadOnlyReachesTheOwnerAndTheNextWelcome() {
        let hub = MemoryHub()
        let ann = Self.core("ann")
        hub.add(ann)
        hub.connect("ann")
        _ = ann.poll()
        #expect(ann.access == .editRun)
        #expect(ann.receive(.roles(Roles(guests: .view, access: .view))).wake)
        #expect(ann.access == .view && ann.guests == .view)
        #expect(ann.poll().contains(.access(.view, guests: .view)))
        // Back to edit while away: the next welcome says so, and the owner hears it as an access change.
        _ = hub.drop("ann")
        hub.members["ann"]!.access = .edit
        hub.connect("ann")
        #expect(ann.access == .edit)
        let events = ann.poll()
        #expect(events.contains(.access(.edit, guests: .editRun)), "\(events)")
    }

    @Test func aClosedCoreNeitherSendsNorReconnects() {
        let ann = Self.core("ann")
        let hub = MemoryHub()
        hub.add(ann)
        hub.connect("ann")
        #expect(ann.linkLost(reason: "wrong secret", fatal: true, reconnect: true) == .closed)
        let events = ann.poll()
        #expect(events.contains(.connection(.closed(reason: "wrong secret"))) && Self.errors(events) == ["wrong secret"])
        #expect(ann.insert("x", at: 0).send.isEmpty && ann.text == "x")
        #expect(ann.receive(.ops(Ops(peer: "bob", seq: 1, update: Update()))) == PeerCore.Output())
        #expect(ann.linkLost(reason: "again", fatal: false, reconnect: true) == .closed)
    }

    @Test func hostileInputsGiveClearErrorsOrAreIgnored() {
        let ann = Self.core("ann")
        // Before any welcome nothing from the server is taken.
        #expect(ann.receive(.ops(Ops(peer: "bob", seq: 1, update: Update()))) == PeerCore.Output())
        #expect(!ann.hasInbox)

        // A welcome with huge numbers: colours folded into the palette, counts that cannot be met.
        let crowd = (0..<5000).map { PresenceInfo(peer: "p\($0)", name: "\u{1b}[31mp\($0)", colour: Int.min + $0,
                                                   cursor: Anchor(agent: "nobody", seq: Int.max, after: true)) }
        let welcome = Welcome(version: WireProtocol.version, session: "x", peer: "ann", colour: Int.max, proof: "", peers: crowd,
                              update: Update(), known: VersionVector(["ann": Int.max, "bob": Int.max]))
        let out = ann.welcomed(welcome)
        #expect(out.send.isEmpty && out.wake)
        _ = ann.poll()
        #expect((0..<8).contains(ann.colour))
        let seen = ann.presences
        #expect(seen.count == PeerCore.maxPeers)
        #expect(seen.allSatisfy { (0..<8).contains($0.colour) && $0.cursor == 0 && !$0.name.contains("\u{1b}") })

        // Ops that build on characters this replica never saw are held (they may yet arrive), not shown.
        let orphan = Update(ops: [.insert(.init(agent: "bob", seq: 5, left: .init(agent: "ghost", seq: 9), right: nil, text: "x"))])
        _ = ann.receive(.ops(Ops(peer: "bob", seq: 1, update: orphan)))
        #expect(Self.errors(ann.poll()).isEmpty && ann.text == "")
        // Malformed ops (numbers out of range): a clear error each, the text unchanged.
        let negative = Update(ops: [.insert(.init(agent: "bob", seq: -1, left: nil, right: nil, text: "x"))])
        _ = ann.receive(.ops(Ops(peer: "bob", seq: 2, update: negative)))
        let huge = Update(ops: [.insert(.init(agent: "bob", seq: Int.max, left: nil, right: nil, text: "xyz"))])
        _ = ann.receive(.ops(Ops(peer: "bob", seq: 3, update: huge)))
        let errors = Self.errors(ann.poll())
        #expect(errors.count == 2 && errors.allSatisfy { $0.hasPrefix("could not apply an update from the session") }, "\(errors)")
        #expect(ann.text == "")

        // Project messages for documents it never opened are not the core's: no state, no crash.
        _ = ann.receive(.docOps(DocOps(doc: 999, peer: "bob", seq: 1, update: orphan)))
        _ = ann.poll()
        #expect(ann.text == "")
        // A presence claiming to be this peer is not listed among the others.
        _ = ann.receive(.presence(PresenceInfo(peer: "ann", name: "me?", colour: 1)))
        _ = ann.poll()
        #expect(!ann.presences.contains { $0.id == "ann" })
        // A refusal of a doc.ops it never sent does not move the acks past what was sent.
        ann.refusedDocOps(seq: 1)
        #expect(ann.isSynced)
        _ = ann.insert("a", at: 0)
        ann.refusedDocOps(seq: 50)
        #expect(!ann.isSynced)
    }

    @Test func bigEditsGoOutInPartsUnderTheFrameLimit() throws {
        let replica = Replica(agent: "ann")
        let ann = PeerCore(config: .init(id: "ann", name: "ann", maxPayload: 64 * 1024), replica: replica)
        _ = ann.welcomed(Welcome(version: WireProtocol.version, session: "x", peer: "ann", colour: 0, proof: "", peers: [],
                                 update: Update(), known: VersionVector()))
        var out = PeerCore.Output()
        for line in 0..<4000 { out.send += ann.insert("line \(line) of a long paste\n", at: ann.scalarCount).send }
        // Typed one at a time: one ops each, numbered 1, 2, 3...
        #expect(out.send.count == 4000)
        // The same text joining a server that lacks all of it: several ops, each under the limit.
        _ = ann.linkLost(reason: "x", fatal: false, reconnect: true)
        let resent = ann.welcomed(Welcome(version: WireProtocol.version, session: "x", peer: "ann", colour: 0, proof: "", peers: [],
                                          update: Update(), known: VersionVector()))
        #expect(resent.send.count > 1)
        let server = Replica(agent: "server")
        for (index, message) in resent.send.enumerated() {
            guard case .ops(let ops) = message else { Issue.record("not ops: \(message)"); continue }
            #expect(ops.seq == index + 1)
            #expect(try MessageCodec.encode(message).count <= 64 * 1024)
            _ = try server.apply(ops.update)
        }
        #expect(server.text == ann.text)
    }

    @Test func aSharedFolderFilesEditsRefusalsAndReopens() throws {
        let ann = Self.core("ann")
        _ = ann.welcomed(Welcome(version: WireProtocol.version, session: "x", peer: "ann", colour: 0, proof: "", peers: [],
                                 update: Update(), known: VersionVector(), project: true))
        _ = ann.poll()
        #expect(ann.isProject)
        // Opening: a numbered request; its answer makes the file's replica and answers the request.
        let (req, out) = try #require(ann.request { .fileOpen(FileOpen(req: $0, path: "a.py")) })
        #expect(out.send == [.fileOpen(FileOpen(req: req, path: "a.py"))])
        let host = Replica(agent: "host")
        host.insert("print(1)\n", at: 0)
        let state = WireMessage.fileState(FileState(req: req, doc: 7, path: "a.py", update: host.updates(since: VersionVector()), known: host.version))
        #expect(ann.receive(state).answers == [RequestAnswer(req: req, result: .success(state))])
        #expect(ann.fileText("a.py") == "print(1)\n")
        // The same answer again (a duplicate) answers nothing.
        #expect(ann.receive(state).answers.isEmpty)
        // Hostile: a document nobody asked for, ops for a document never opened, an answer to no request.
        _ = ann.receive(.fileState(FileState(req: 999, doc: 8, path: "b.py", update: Update(), known: VersionVector())))
        _ = ann.receive(.docOps(DocOps(doc: 12345, peer: "bob", seq: 1, update: host.updates(since: VersionVector()))))
        _ = ann.receive(.files(FilesPage(req: 4242, from: 0, total: 0, entries: [])))
        #expect(ann.openFiles == ["a.py"] && ann.fileText("a.py") == "print(1)\n")
        #expect(throws: SessionError.self) { try ann.insert("x", at: 0, inFile: "b.py") }

        // An edit of the file: doc.ops numbered with the main document's ops.
        let edit = try ann.insert("# ", at: 0, inFile: "a.py")
        guard case .docOps(let sent) = try #require(edit.send.first) else { Issue.record("\(edit.send)"); return }
        #expect(sent.doc == 7 && sent.seq == 1 && !ann.isSynced)
        // Refused: the copy is dropped and reopened, the owner told; unsynced until the host's copy is back.
        let refusal = ann.receive(.refused(Refused(what: "doc.ops", message: "read only", doc: 7, seq: 1)))
        guard case .fileOpen(let reopen) = try #require(refusal.send.first) else { Issue.record("\(refusal.send)"); return }
        #expect(reopen.path == "a.py" && reopen.known == nil && refusal.wake)
        #expect(ann.fileText("a.py") == nil && !ann.isSynced)
        #expect(Self.errors(ann.poll()).contains { $0.contains("refused your doc.ops for a.py") })
        #expect(throws: SessionError.self) { try ann.insert("x", at: 0, inFile: "a.py") }
        // A reconnect before the answer asks again for it, with the same number.
        _ = ann.linkLost(reason: "x", fatal: false, reconnect: true)
        let welcomeAgain = ann.welcomed(Welcome(version: WireProtocol.version, session: "x", peer: "ann", colour: 0, proof: "", peers: [],
                                                update: Update(), known: VersionVector(), project: true))
        #expect(welcomeAgain.send == [.fileOpen(FileOpen(req: reopen.req, path: "a.py"))])
        _ = ann.receive(.fileState(FileState(req: reopen.req, doc: 9, path: "a.py", update: host.updates(since: VersionVector()), known: host.version)))
        #expect(ann.fileText("a.py") == "print(1)\n" && ann.isSynced)
        // Linked again with the file open: the next welcome reopens it with what this copy has.
        _ = ann.linkLost(reason: "x", fatal: false, reconnect: true)
        let third = ann.welcomed(Welcome(version: WireProtocol.version, session: "x", peer: "ann", colour: 0, proof: "", peers: [],
                                         update: Update(), known: VersionVector(), project: true))
        #expect(third.send == [.fileOpen(FileOpen(req: nil, path: "a.py", known: host.version))])
    }

    /// A core in a shared folder with `a.py` open, holding `host`'s document of it (doc 7).
    private static func folderCore(_ id: AgentID, opening host: Replica?) throws -> PeerCore {
        let core = Self.core(id)
        _ = core.welcomed(Welcome(version: WireProtocol.version, session: "x", peer: id, colour: 0, proof: "", peers: [],
                                  update: Update(), known: VersionVector(), project: true))
        _ = core.poll()
        guard let host else { return core }
        let (req, _) = try #require(core.request { .fileOpen(FileOpen(req: $0, path: "a.py")) })
        _ = core.receive(.fileState(FileState(req: req, doc: 7, path: "a.py", update: host.updates(since: VersionVector()), known: host.version)))
        return core
    }

    @Test func presenceInAFileIsResolvedInThatFilesReplicaAndEditsCatchUpWithTheEditorsCopy() throws {
        let host = Replica(agent: "host")
        host.insert("print(1)\n", at: 0)
        let ann = try Self.folderCore("ann", opening: host)
        let bob = try Self.folderCore("bob", opening: host)
        let carol = try Self.folderCore("carol", opening: nil)

        // Ann's caret in a.py: the presence names the file, anchors in the file's replica.
        let out = ann.setPresence(cursor: 6, selection: 2..<6, inFile: "a.py")
        guard case .presence(let info) = try #require(out.send.first) else { Issue.record("\(out.send)"); return }
        #expect(info.file == "a.py" && ann.presenceFile == "a.py")
        // Bob has the file open: offsets in his copy; Carol has not: the file only.
        for core in [bob, carol] { _ = core.receive(.presence(info)) }
        let seenByBob = bob.poll().compactMap { event -> [PeerPresence]? in if case .peersChanged(let list) = event { list } else { nil } }
        #expect(seenByBob.last == [PeerPresence(id: "ann", name: "ann", colour: 0, cursor: 6, selection: 2..<6, file: "a.py")])
        _ = carol.poll()
        #expect(carol.presences == [PeerPresence(id: "ann", name: "ann", colour: 0, cursor: 0, selection: nil, file: "a.py")])
        // A remote edit of the file before her caret moves it in Bob's view (the anchors hold their characters).
        let remote = Replica(agent: "dan")
        _ = try remote.apply(host.updates(since: VersionVector()))
        let insert = remote.insert("# ", at: 0)
        _ = bob.receive(.docOps(DocOps(doc: 7, peer: "dan", seq: 1, update: insert)))
        #expect(bob.presences.first?.cursor == 8 && bob.presences.first?.selection == 4..<8)
        // A caret in a file not open sends nothing; one in the session's document names no file.
        #expect(carol.setPresence(cursor: 1, selection: nil, inFile: "a.py").send.isEmpty)
        guard case .presence(let plain) = try #require(ann.setPresence(cursor: 0, selection: nil).send.first) else { return }
        #expect(plain.file == nil && ann.presenceFile == nil)

        // Bob's editor still shows the text before Dan's edit: its offset 6 is carried over it.
        let edit = try bob.editFile("a.py", seen: "print(1)\n", offset: 6, delete: 1, insert: "2")
        #expect(edit.send.count == 2 && bob.fileText("a.py") == "# print(2)\n")
        // Undo and redo are per file and per peer; a file not open has neither, and is refused for edits.
        #expect(bob.undoFile("a.py").done && bob.fileText("a.py") == "# print(1)\n")
        #expect(bob.redoFile("a.py").done && bob.fileText("a.py") == "# print(2)\n")
        #expect(!carol.undoFile("a.py").done && !carol.redoFile("a.py").done)
        #expect(throws: SessionError.self) { try carol.editFile("a.py", seen: "", offset: 0, delete: 0, insert: "x") }
    }

    @Test func aFoldersRunSettingsComeWithTheWelcomeAndChangeWithRunConfig() throws {
        let ann = Self.core("ann")
        let pytest = ProjectRunSettings(command: "python -m pytest -q", language: "python")
        _ = ann.welcomed(Welcome(version: WireProtocol.version, session: "x", peer: "ann", colour: 0, proof: "", peers: [],
                                 update: Update(), known: VersionVector(), project: true, run: pytest))
        _ = ann.poll()
        #expect(ann.runSettings == pytest)
        // A change on the host's disk: kept, and the owner hears it.
        let broken = ProjectRunSettings(problem: ".codesync.json: not JSON")
        #expect(ann.receive(.runConfig(broken)).wake)
        #expect(ann.runSettings == broken)
        #expect(ann.poll().contains(.run(.config(broken))))
        // Empty: the file was removed, runs run the file asked for again.
        _ = ann.receive(.runConfig(ProjectRunSettings()))
        #expect(ann.runSettings == nil)
        // The next welcome is the truth (a host restarted without the file).
        _ = ann.linkLost(reason: "x", fatal: false, reconnect: true)
        _ = ann.receive(.runConfig(pytest))
        #expect(ann.runSettings == nil)
        _ = ann.welcomed(Welcome(version: WireProtocol.version, session: "x", peer: "ann", colour: 0, proof: "", peers: [],
                                 update: Update(), known: VersionVector(), project: true))
        #expect(ann.runSettings == nil)
    }
}
