import CodeSyncTestSupport
@_spi(Wire) import CodeSyncDocument
import CodeSyncProtocol
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The live hostile-peer fuzzer for shared folders (`codesync host DIR`): the sibling of
/// `HostileFuzzTests` (which attacks a one-file host and a relay) for the project messages. A folder
/// host on 127.0.0.1 shares a temporary DIR (text files, over a page of them, an ignored file, `.git`, a binary and a
/// large file, a symlink out of DIR to a sentinel folder beside it, a symlinked folder out, and a
/// symlink in); two honest guests open files and type in them, while an attacker, signed in as a
/// guest with edit rights, as a watcher, or not at all, sends seeded random and boundary project
/// frames. After every batch: the host answers (a fresh guest joins, lists and opens); each honest
/// peer's open files are exactly those it opened, moved only by renames and deletes it was told of;
/// their texts equal the host's documents and, once saved, the files on disk; nothing outside DIR
/// was created, changed or deleted; watchers and unauthenticated attackers changed nothing in DIR;
/// nothing ignored or outside was sent to anyone; memory stays bounded; and an honest edit's round
/// trip stays within the one-file fuzzer's budget.
///
/// A suite of its own rather than more families in `HostileFuzzTests`: its fixture is a folder host
/// (`HostSession`) with per-file documents and a disk to watch, not a one-file host and relay, and
/// its invariants are per file and on the disk; mixing them would make every batch check both.
///
/// Quick and seeded by default (< 40 s); the same variables as `HostileFuzzTests`
/// (`CODESYNC_FUZZ_LONG`, `CODESYNC_FUZZ_SEED`, `CODESYNC_FUZZ_ROUNDS`, `CODESYNC_FUZZ_ATTACKS`,
/// `CODESYNC_FUZZ_FAMILIES`) choose how long and what.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(60))) struct HostileProjectFuzzTests {
    /// What the attacker tries (each names its access in `ProjectAttacker.access`).
    enum Family: String, CaseIterable {
        /// `file.open` of every hostile path: `..`, absolute, NUL, control and bidi characters, 5000-byte
        /// paths, 300-byte names, 65 folders deep, the symlinks out, ignored files, `.git`, folders.
        case hostilePaths
        /// Opens of binary, NUL-holding and over-1-MiB files, and creates of them.
        case binaryOpens
        /// `files.list` with extreme cursors, requests and page-size fields that do not exist.
        case listing
        /// `doc.ops` for documents never opened on the connection: extreme, negative, Int64-edge, another's.
        case foreignDocs
        /// `doc.ops` for an opened document: Int32-edge operations, authored as the honest peers,
        /// half-valid batches, another author then a valid one, a wrong `peer`, and a few honest edits.
        case docEdges
        /// `file.create` / `file.rename` / `file.delete` with hostile paths on either side.
        case hostileChanges
        /// A bounded storm of creates, renames and deletes: onto existing files, of and onto the files
        /// the honest peers have open, deletes of files others have open.
        case storm
        /// Hundreds (thousands in long mode) of `file.open` of one file, with extreme `known` vectors.
        case openStorm
        /// Valid project frames repeated, and cut short or with a lying length.
        case repeatedTruncated
        /// `presence` in a hostile or foreign `file`, with extreme anchors (kept until the checks).
        case presence
        /// `run.request` of hostile paths, in another's name; `run.started` from a guest.
        case runs
        /// Every change as a watcher: create, rename and delete, and edits of an opened file.
        case watcher
        /// Project frames before any hello, in clear or in the channel, and after a wrong proof.
        case anonymous
    }

    typealias Config = FuzzConfig<Family>

    @Test func hostilePeersNeverEscapeTheFolderNorSilentlyChangeAnOpenFile() async throws {
        let config = Config.fromEnvironment(defaultSeed: 20261203, quick: (rounds: 8, attacks: 30), long: (rounds: 60, attacks: 100))
        print("hostile project fuzz: \(config) (replay: CODESYNC_FUZZ_SEED=\(config.seed) CODESYNC_FUZZ_ROUNDS=\(config.rounds) CODESYNC_FUZZ_ATTACKS=\(config.attacksPerRound)\(config.long ? " CODESYNC_FUZZ_LONG=1" : ""))")
        let fixture = try await ProjectFuzzFixture.start()
        var rng = SplitMix(seed: config.seed)
        // The honest peers' typing draws from a generator of its own: the attacks a seed gives do not
        // depend on how many files the honest peers happen to have open.
        var honestRng = SplitMix(seed: config.seed ^ 0x5eed_f01d)
        var sent: [Family: Int] = [:]
        var refusedAtHandshake = 0
        let baseline = FuzzFixture.residentMiB()
        var worstRoundTrip = 0.0
        var peakGrowth = 0
        let started = Date()
        for round in 1...config.rounds {
            fixture.beginBatch()
            for _ in 0..<config.attacksPerRound {
                let family = config.families[rng.below(config.families.count)]
                if await !ProjectAttacker.run(family, fixture: fixture, long: config.long, rng: &rng) { refusedAtHandshake += 1 }
                sent[family, default: 0] += 1
                fixture.honestTyping(&honestRng)
            }
            // The checks after every batch, each with its own message.
            let presences = await fixture.presenceProblems()
            #expect(presences.isEmpty, "round \(round): honest peers were shown presences they must not be: \(presences)")
            fixture.lingering = []
            let quiet = await fixture.attackersGone()
            #expect(quiet, "round \(round): the host still holds attack connections 30 s after they ended")
            let answers = await fixture.answers()
            #expect(answers.isEmpty, "round \(round): the host no longer lets a fresh guest join, list and open: \(answers)")
            let (unexplained, byForbidden) = await fixture.openFilesUnexplained()
            #expect(unexplained.isEmpty, "round \(round): an honest peer's open files changed without a file.changed telling it: \(unexplained)")
            #expect(byForbidden.isEmpty, "round \(round): honest peers heard file changes made by watchers or strangers: \(byForbidden)")
            let refused = fixture.honestRefusals()
            #expect(refused.isEmpty, "round \(round): honest edits were refused: \(refused)")
            let diverged = await fixture.divergence()
            #expect(diverged.isEmpty, "round \(round): an honest peer's open file differs from the host's document: \(diverged)")
            let unsaved = await fixture.saveProblems()
            #expect(unsaved.isEmpty, "round \(round): after the host saved, files on disk differ from the honest peers' texts: \(unsaved)")
            let outside = fixture.outsideChanges()
            #expect(outside.isEmpty, "round \(round): something outside the shared folder was created, changed or deleted: \(outside)")
            let unauthorised = fixture.unauthorisedChanges()
            #expect(unauthorised.isEmpty, "round \(round): a watcher or an unauthenticated attacker changed the folder: \(unauthorised)")
            let replaced = fixture.replacedFiles()
            #expect(replaced.isEmpty, "round \(round): a create or rename replaced or removed an existing file: \(replaced.prefix(10))")
            let ignored = fixture.ignoredMade()
            #expect(ignored.isEmpty, "round \(round): files the ignore rules keep out (or inside .git) were made in the folder: \(ignored.prefix(10))")
            #expect(fixture.findings.isEmpty, "round \(round): attackers were sent or allowed what they must not be: \(fixture.findings.prefix(10))")
            let roundTrip = await fixture.roundTripMs(round: round)
            worstRoundTrip = max(worstRoundTrip, roundTrip)
            #expect(roundTrip < 3000, "round \(round): an honest edit took \(Int(roundTrip)) ms to reach the other peer")
            let growth = FuzzFixture.residentMiB() - baseline
            peakGrowth = max(peakGrowth, growth)
            #expect(growth < 512, "round \(round): resident memory grew by \(growth) MiB")
            if !(quiet && answers.isEmpty && diverged.isEmpty && outside.isEmpty && unauthorised.isEmpty) { break }
        }
        let counts = sent.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
        let summary = await fixture.summary()
        print("hostile project fuzz: \(config): \(sent.values.reduce(0, +)) attacks (\(counts)), \(refusedAtHandshake) refused before any frame; " +
              "\(summary); worst honest round trip \(Int(worstRoundTrip)) ms, peak RSS growth \(peakGrowth) MiB, \(Int(Date().timeIntervalSince(started))) s")
        await fixture.stop()
    }
}

/// A folder host under attack, its two honest guests, and what the checks compare against.
final class ProjectFuzzFixture: @unchecked Sendable {
    let files: ProjectFixture
    let session: HostSession
    let server: SessionServer
    let alice: CollaborationPeer
    let bob: CollaborationPeer
    /// DIR's real path (what the host's messages would leak).
    let rootPath: String
    /// Absolute paths attackers aim at outside DIR (under the system's temporary folder).
    let evilPrefix: String
    /// The outside folder (sentinel included) and the base folder, as they were before any attack.
    private let outsideBefore: [String: String]
    private let baseBefore: [String]
    private let canaryBefore: String?
    /// Attack connections kept open until the checks (their presence is checked).
    var lingering: [FuzzClient] = []
    /// What attackers were sent or allowed that they must not be (checked after every batch).
    var findings: [String] = []
    /// Ids of watchers and unauthenticated attackers: no file change may be by one of them.
    var forbiddenAuthors: Set<String> = []
    /// Files guest attackers made (and where they moved them): targets of later storms.
    var attackerFiles: [String] = []
    private(set) var checks = 0
    private var expectedOpen: [String: Set<String>] = [:]
    private var honestErrors: [String] = []
    /// What the attacks did to files honest peers had open, for the summary.
    private(set) var honestRenamed = 0, honestDeleted = 0

    /// Text honest peers and the host must never hold: only refused or invalid edits carry it.
    static let forbiddenTexts = ["EVIL", "MUGGLED", "WATCHER", "ANON", "AFTERREFUSED"]
    /// Contents of files the host must never send (outside DIR, ignored, `.git`).
    static let secretContents = ["top secret", "hunter2", "gitcfg-marker", "ignored-build-marker"]
    static let originals = ["main.py": "import helper\nprint(helper.f())\n", "helper.py": "def f():\n    return 1\n"]
    static let canary = "canary/keep.py"
    /// Files no attack renames or deletes (`many/…`): creates over them and renames onto them must
    /// be refused. The honest peers keep one of them open (and type in it).
    static func many(_ index: Int) -> String { String(format: "many/f%04d.txt", index) }
    static let manyCount = FilesPage.maxEntries + 50
    static let steady = many(7)

    private init(files: ProjectFixture, session: HostSession, server: SessionServer, alice: CollaborationPeer, bob: CollaborationPeer) throws {
        self.files = files
        self.session = session
        self.server = server
        self.alice = alice
        self.bob = bob
        rootPath = files.root.resolvingSymlinksInPath().path
        evilPrefix = FileManager.default.temporaryDirectory.resolvingSymlinksInPath().path + "/codesync-projfuzz-evil-\(getpid())-"
        outsideBefore = Self.snapshot(files.outside.path)
        baseBefore = try FileManager.default.contentsOfDirectory(atPath: files.base.path).sorted()
        canaryBefore = Self.describe(files.root.appendingPathComponent(Self.canary).path)
    }

    var honest: [CollaborationPeer] { [alice, bob] }

    static func start() async throws -> ProjectFuzzFixture {
        let files = try ProjectFixture()
        for (path, text) in originals { try files.write(path, text) }
        try files.write("docs/README.md", "# hi\n")
        try files.write("pkg/util.py", "X = 1\n")
        try files.write(".gitignore", "*.secret\nbuild/\n")
        try files.write("key.secret", "KEY=hunter2\n")
        try files.write("build/out.txt", "ignored-build-marker\n")
        try files.write(".git/config", "[core]\n# gitcfg-marker\n")
        try files.write("img/logo.png", "\u{89}PNG")
        try files.write("blob.txt", "a\u{0}b\n")
        try files.write("big.txt", String(repeating: "x", count: (1 << 20) + 1))
        try files.write(canary, "# canary: only watchers and strangers aim here\n")
        // More files than one page of the index holds, so listing goes through pages.
        for index in 0..<manyCount { try files.write(many(index), "\(index)\n") }
        try FileManager.default.createDirectory(at: files.base.appendingPathComponent("state"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: files.outside.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("outside too\n".utf8).write(to: files.outside.appendingPathComponent("sub/other.txt"))
        restoreSymlinks(files)
        let fixture: ProjectFuzzFixture
        var options = HostSession.Options(file: files.root, name: "host")
        options.port = 0
        options.stateDirectory = files.base.appendingPathComponent("state")
        options.limits = FuzzFixture.limits()
        options.guests = .editRun
        let session = try await HostSession.start(options)
        func guest(_ name: String) async throws -> CollaborationPeer {
            var peer = CollaborationPeer.Options(name: name, secret: session.secret)
            peer.limits = FuzzFixture.limits()
            peer.connectTimeout = 20
            return try await CollaborationPeer.join(session.joinAddress, options: peer)
        }
        let alice = try await guest("alice")
        let bob = try await guest("bob")
        guard let server = session.server else { throw RawError("the folder host has no server") }
        fixture = try ProjectFuzzFixture(files: files, session: session, server: server, alice: alice, bob: bob)
        await fixture.maintain(round: 0)
        return fixture
    }

    var port: Int { server.port }

    func secret(watcher: Bool) -> String { watcher ? (session.viewSecret ?? "no-view-secret") : session.secret }

    // MARK: Honest peers

    /// Honest guests type a little in a file they have open (a rename or delete may close it meanwhile).
    func honestTyping(_ rng: inout SplitMix) {
        for peer in honest where rng.next() % 2 == 0 {
            collectErrors(peer)
            let open = peer.openFiles
            guard !open.isEmpty else { continue }
            let path = open[rng.below(open.count)]
            guard let length = peer.fileText(path)?.unicodeScalars.count else { continue }
            let words = ["x", "n ", "+1", "\n", "é", "🌍", "if n:", "# ok"]
            if rng.next() % 4 == 0, length > 4 {
                try? peer.delete(at: rng.below(length - 2), count: 1 + rng.below(2), inFile: path)
            } else {
                try? peer.insert(words[rng.below(words.count)], at: rng.below(length + 1), inFile: path)
            }
        }
    }

    private func collectErrors(_ peer: CollaborationPeer) {
        for event in peer.poll() {
            if case .error(let text) = event { honestErrors.append("\(peer.options.name): \(text)") }
        }
    }

    /// Before a batch: what each honest peer has open, and nothing heard yet.
    func beginBatch() {
        findings = []
        honestErrors = []
        for peer in honest {
            collectErrors(peer)
            _ = peer.takeFileChanges()
            expectedOpen[peer.id] = Set(peer.openFiles)
        }
    }

    /// Between batches, as honest users would: put back the two starting files if an attack deleted
    /// them, reopen them, and make sure both honest peers share one open file (for the round trip).
    func maintain(round: Int) async {
        for (path, text) in Self.originals.sorted(by: { $0.key < $1.key }) where !exists(path) {
            try? await alice.createFile(path, text: text)
        }
        for peer in honest {
            for path in Self.originals.keys.sorted() + [Self.steady] where peer.fileText(path) == nil { _ = try? await peer.openFile(path) }
        }
        if sharedFile() == nil {
            let path = "honest/r\(round).py"
            try? await alice.createFile(path, text: "# round \(round)\n")
            for peer in honest { _ = try? await peer.openFile(path) }
        }
        // Requests are answered in order: every file.changed sent before is in.
        for peer in honest { _ = try? await peer.listFiles() }
        for peer in honest {
            collectErrors(peer)
            _ = peer.takeFileChanges()
        }
    }

    /// A file both honest peers have open.
    func sharedFile() -> String? { Set(alice.openFiles).intersection(bob.openFiles).sorted().first }

    func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(files.root.appendingPathComponent(path).path, &info) == 0
    }

    /// The symlinks attacks may move or delete (deleting a link is allowed; its target must survive):
    /// one to the sentinel outside, a folder out, one in.
    static func restoreSymlinks(_ files: ProjectFixture) {
        let links = [("escape.txt", files.outside.appendingPathComponent("secret.txt").path), ("outdir", files.outside.path), ("alias.py", "helper.py")]
        for (path, target) in links {
            var info = stat()
            if lstat(files.root.appendingPathComponent(path).path, &info) != 0 { try? files.symlink(path, to: target) }
        }
    }

    // MARK: Checks

    /// The presences honest peers see: a file that is a well-formed project path (or none), a cursor in bounds.
    func presenceProblems() async -> [String] {
        try? await Task.sleep(for: .milliseconds(lingering.isEmpty ? 0 : 300))
        var problems: [String] = []
        for peer in honest {
            for presence in peer.presences {
                if let file = presence.file, (try? ProjectPath(file)) == nil {
                    problems.append("\(peer.options.name) sees \(presence.id) in \(file.prefix(60).debugDescription)")
                }
                let length = presence.file.flatMap { peer.fileText($0)?.unicodeScalars.count } ?? Int.max
                if presence.cursor < 0 || presence.cursor > length {
                    problems.append("\(peer.options.name) sees \(presence.id)'s cursor at \(presence.cursor) of \(length)")
                }
            }
        }
        return problems
    }

    /// Waits (30 s at most) until only the host's own peer and the two honest guests are connected:
    /// every attack's frames have been handled and its connection let go.
    func attackersGone() async -> Bool {
        await eventually(30, peers: honest) { await self.server.connectedPeers() == 3 }
    }

    /// A fresh guest (from an address no attacker uses) joins, lists the whole index and opens a file;
    /// what is wrong, empty when all went well. The index must hold nothing ignored or outside.
    func answers() async -> [String] {
        let open = Set(honest.flatMap(\.openFiles))
        let root = rootPath
        // One listed file to open: one the honest peers have open, else a listed regular file no
        // attack aims at (a listed symlink may lead nowhere since an attack moved its target).
        let view = await hostView { listed in
            let regular = listed.first { path in
                var info = stat()
                return path.hasPrefix("many/") && lstat(root + "/" + path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
            }
            return [listed.first(where: open.contains) ?? regular ?? "many/f0000.txt"]
        }
        guard let view else { return ["no welcome within 10 s"] }
        var problems: [String] = []
        guard let listed = view.listed else { return ["no answer to files.list"] }
        let hidden = listed.filter { Self.hidden($0) || throughSymlink($0) }
        if !hidden.isEmpty { problems.append("the index lists \(hidden.prefix(5))") }
        if view.texts.values.allSatisfy({ $0 == nil }) { problems.append("could not open \(view.texts.keys.sorted()): \(view.refusals)") }
        return problems
    }

    /// A path the index must never list, nor a peer make: ignored by the fixture's `.gitignore`
    /// (`*.secret`, `build/`, at any depth) or inside `.git`.
    static func hidden(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.last?.hasSuffix(".secret") == true || parts.contains(".git") || parts.dropLast().contains("build")
    }

    /// A listed path that goes through a symlinked folder (`outdir/…`, as long as `outdir` is the
    /// link out): the host never enters one.
    func throughSymlink(_ path: String) -> Bool {
        var prefix = rootPath
        for part in path.split(separator: "/").dropLast() {
            prefix += "/" + part
            var info = stat()
            if lstat(prefix, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK { return true }
        }
        return false
    }

    /// What a fresh guest sees: the whole index (nil when unanswered) and the host's text of each of
    /// the paths `choose` picks from it (nil when refused). Nil when it could not join.
    func hostView(paths choose: @escaping @Sendable ([String]) -> [String]) async -> (listed: [String]?, texts: [String: String?], refusals: [String])? {
        checks += 1
        let id = "checker-\(checks)"
        guard let client = try? FuzzClient(port: port, from: "127.0.0.4", timeout: 10),
              await client.handshake(secret: session.secret, peer: id, session: "") != nil
        else { return nil }
        return try? await offPool { () -> ([String]?, [String: String?], [String]) in
            var paged: [String] = []
            var listed: [String]?
            var req = 0
            for _ in 0..<200 {
                req += 1
                client.write(Attacker.frame(Array("{\"from\":\(paged.count),\"req\":\(req),\"type\":\"files.list\"}".utf8)))
                let answer = client.messages(within: 10_000) { if case .files(let page) = $0 { page.req == req } else { false } }
                guard case .files(let page)? = answer.last, page.req == req else { break }
                paged += page.entries.map(\.path)
                if page.entries.isEmpty || paged.count >= page.total {
                    listed = paged
                    break
                }
            }
            var texts: [String: String?] = [:]
            var refusals: [String] = []
            for path in choose(listed ?? paged) {
                req += 1
                guard let open = try? MessageCodec.encode(.fileOpen(FileOpen(req: req, path: path))) else { continue }
                client.write(Attacker.frame(open))
                let answer = client.messages(within: 10_000) {
                    switch $0 {
                    case .fileState(let state): state.req == req
                    case .refused(let refused): refused.req == req
                    default: false
                    }
                }
                texts[path] = .some(nil)
                switch answer.last {
                case .fileState(let state)?:
                    let replica = Replica(agent: id)
                    if (try? replica.apply(state.update)) != nil { texts[path] = replica.text }
                case .refused(let refused)?: refusals.append("\(path): \(refused.message)")
                default: refusals.append("\(path): no answer")
                }
            }
            return (listed, texts, refusals)
        }
    }

    /// Each honest peer's open files now, against those it had before the batch moved by every
    /// rename and delete it heard (`file.changed`): what differs. A rename or delete of a file someone
    /// has open is allowed (a guest with edit rights may), but never unannounced.
    func openFilesUnexplained() async -> (unexplained: [String], byForbidden: [String]) {
        // A request is answered after every file.changed sent before it: all are in.
        for peer in honest { _ = try? await peer.listFiles() }
        var problems: [String] = [], byForbidden: [String] = []
        for peer in honest {
            var expected = expectedOpen[peer.id] ?? []
            for change in peer.takeFileChanges() {
                if let by = change.by, forbiddenAuthors.contains(by) {
                    byForbidden.append("\(peer.options.name) heard \(change.change.rawValue) \(change.path) by \(by)")
                }
                switch change.change {
                case .renamed:
                    if let to = change.to, expected.remove(change.path) != nil {
                        expected.insert(to)
                        honestRenamed += 1
                    }
                case .deleted:
                    if expected.remove(change.path) != nil { honestDeleted += 1 }
                case .created:
                    break
                }
            }
            let now = Set(peer.openFiles)
            if now != expected {
                problems.append("\(peer.options.name) has \(now.sorted()) open, expected \(expected.sorted())")
            }
        }
        return (problems, byForbidden)
    }

    /// Honest edits the host refused: only edits of a file deleted meanwhile may be ("not open").
    func honestRefusals() -> [String] {
        for peer in honest { collectErrors(peer) }
        return honestErrors.filter { !$0.contains("is not open on this connection") }
    }

    /// Waits until the honest peers are synced and agree on the files both have open, then compares
    /// each open file with the host's document (as a fresh guest receives it); what differs.
    func divergence() async -> [String] {
        var problems: [String] = []
        for attempt in 0..<3 {
            let settled = await eventually(30, peers: honest) {
                guard self.alice.isSynced, self.bob.isSynced else { return false }
                return Set(self.alice.openFiles).intersection(self.bob.openFiles).allSatisfy { self.alice.fileText($0) == self.bob.fileText($0) }
            }
            problems = settled ? [] : honest.map { "\($0.options.name): synced \($0.isSynced), connected \($0.isConnected), open \($0.openFiles)" }
            let paths = Set(honest.flatMap(\.openFiles)).sorted()
            guard let view = await hostView(paths: { _ in paths }) else { return problems + ["no checker could join"] }
            for peer in honest {
                for path in peer.openFiles {
                    let mine = peer.fileText(path)
                    let hosts = view.texts[path] ?? nil
                    if mine != hosts {
                        problems.append("\(peer.options.name)'s \(path): \(mine?.count ?? -1) chars, the host's \(hosts?.count ?? -1)")
                    }
                    if let text = mine, let bad = Self.forbiddenTexts.first(where: text.contains) {
                        problems.append("\(peer.options.name)'s \(path) holds \(bad), from a refused or invalid edit")
                    }
                }
            }
            if problems.isEmpty || attempt == 2 { break }
            try? await Task.sleep(for: .seconds(1))
        }
        return problems
    }

    /// Saves the host's documents and compares each honest peer's open files with the disk.
    func saveProblems() async -> [String] {
        var problems = await server.saveProject().map { "save: \($0)" }
        for peer in honest {
            for path in peer.openFiles {
                let disk = files.contents(path)
                if disk != peer.fileText(path) {
                    problems.append("\(peer.options.name)'s \(path): \(peer.fileText(path)?.count ?? -1) chars, on disk \(disk?.count ?? -1)")
                }
            }
        }
        // The session's own changes are never taken for another program's (that would put the disk's copy aside).
        let aside = Self.walk(rootPath).keys.filter { $0.contains(".codesync-disk") || $0.contains(".codesync-unsaved") }
        if !aside.isEmpty { problems.append("copies put aside: \(aside.sorted().prefix(5))") }
        return problems
    }

    /// Anything outside DIR that differs from before the attacks (the sentinel's content and mtime,
    /// the outside folder's listing, the base folder's names, files at the attacks' absolute paths).
    func outsideChanges() -> [String] {
        var problems: [String] = []
        let now = Self.snapshot(files.outside.path)
        for (path, before) in outsideBefore where now[path] != before { problems.append("outside/\(path): \(before) → \(now[path] ?? "gone")") }
        for path in now.keys where outsideBefore[path] == nil { problems.append("outside/\(path) appeared") }
        let sentinel = FileManager.default.contents(atPath: files.outside.appendingPathComponent("secret.txt").path)
        if sentinel != Data("top secret\n".utf8) { problems.append("the sentinel's content changed") }
        let base = (try? FileManager.default.contentsOfDirectory(atPath: files.base.path).sorted()) ?? []
        if base != baseBefore { problems.append("beside DIR: \(baseBefore) → \(base)") }
        let temp = URL(fileURLWithPath: evilPrefix).deletingLastPathComponent().path
        let stray = ((try? FileManager.default.contentsOfDirectory(atPath: temp)) ?? []).filter { (temp + "/" + $0).hasPrefix(evilPrefix) }
        if !stray.isEmpty { problems.append("made at the attacks' absolute paths: \(stray.prefix(5))") }
        return problems
    }

    /// Files in DIR the ignore rules keep out of the session that were not there at the start: no
    /// peer may make one (the host's own are `key.secret`, `build/out.txt` and `.git/config`).
    func ignoredMade() -> [String] {
        let made = Self.walk(rootPath).filter { !$0.value && Self.hidden($0.key) }.keys.filter { !["key.secret", "build/out.txt", ".git/config"].contains($0) }
        return made.sorted()
    }

    /// The files no attack may replace or remove (`many/…`): each still there with its text (the one
    /// the honest peers edit is compared with their text by the save check).
    func replacedFiles() -> [String] {
        (0..<Self.manyCount).map(Self.many).filter { $0 != Self.steady }.compactMap { path in
            let expected = "\(Int(path.dropFirst(6).prefix(4)) ?? -1)\n"
            let now = files.contents(path)
            return now == expected ? nil : "\(path): \(now.map { "\($0.prefix(40))".debugDescription } ?? "gone")"
        }
    }

    /// Traces of watchers' and strangers' attempts in DIR (their names carry `zz-watch` / `zz-anon`),
    /// and the canary only they aim at.
    func unauthorisedChanges() -> [String] {
        var problems: [String] = []
        let marked = Self.walk(rootPath).keys.filter { $0.contains("zz-watch") || $0.contains("zz-anon") }
        if !marked.isEmpty { problems.append("made in DIR: \(marked.sorted().prefix(5))") }
        let canary = Self.describe(files.root.appendingPathComponent(Self.canary).path)
        if canary != canaryBefore || files.contents(Self.canary)?.hasPrefix("# canary") != true {
            problems.append("\(Self.canary): \(canaryBefore ?? "-") → \(canary ?? "gone")")
        }
        return problems
    }

    /// Milliseconds for an honest edit in a shared file to reach the other honest peer (after
    /// putting the starting files back and reopening them, as a user would).
    func roundTripMs(round: Int) async -> Double {
        Self.restoreSymlinks(files)
        await maintain(round: round)
        guard let path = sharedFile() else { return 10_000 }
        let marker = "«p\(round)»"
        let start = Date()
        do { try alice.insert(marker, at: 0, inFile: path) } catch { return 10_000 }
        guard await eventually(10, peers: honest, { self.bob.fileText(path)?.contains(marker) == true }) else { return 10_000 }
        return Date().timeIntervalSince(start) * 1000
    }

    func summary() async -> String {
        let indexed = await server.projectSummary()?.files ?? -1
        return "\(indexed) files indexed at the end, honest open files renamed \(honestRenamed) and deleted \(honestDeleted) times"
    }

    func stop() async {
        for peer in honest { await peer.close() }
        try? await session.shutdown(save: false, discardJournal: true)
        files.remove()
        // Paths past PATH_MAX (16 names of 255 bytes) defeat FileManager's removal: `rm -rf` walks
        // by descriptors.
        if FileManager.default.fileExists(atPath: files.base.path) {
            let base = files.base.path
            _ = try? await offPool { try Command.run(["/bin/rm", "-rf", base], timeout: 60) }
        }
    }

    // MARK: The disk

    /// `lstat` of `path` as one comparable line (type, size, mtime, inode, mode); nil when absent.
    static func describe(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return "mode \(String(info.st_mode, radix: 8)) size \(info.st_size) mtime \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) inode \(info.st_ino)"
    }

    /// Every path under `root` (symlinks not followed), relative, with `describe`.
    static func snapshot(_ root: String) -> [String: String] {
        walk(root).reduce(into: [:]) { $0[$1.key] = describe(root + "/" + $1.key) ?? "-" }
    }

    /// Every path under `root`, relative (folders too; symlinks are not entered).
    static func walk(_ root: String) -> [String: Bool] {
        var out: [String: Bool] = [:]
        var pending = [""]
        while let folder = pending.popLast() {
            let path = folder.isEmpty ? root : root + "/" + folder
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
            for name in names {
                let relative = folder.isEmpty ? name : folder + "/" + name
                var info = stat()
                guard lstat(root + "/" + relative, &info) == 0 else { continue }
                let isFolder = info.st_mode & S_IFMT == S_IFDIR
                out[relative] = isFolder
                if isFolder { pending.append(relative) }
            }
        }
        return out
    }
}

/// The attacker's project frames, family by family.
enum ProjectAttacker {
    enum Access: String { case anonymous, guest, watcher }

    static func access(_ family: HostileProjectFuzzTests.Family, rng: inout SplitMix) -> Access {
        switch family {
        case .watcher: .watcher
        case .anonymous: .anonymous
        case .hostilePaths, .binaryOpens, .listing, .openStorm, .runs: rng.next() % 3 == 0 ? .watcher : .guest
        case .foreignDocs, .docEdges, .hostileChanges, .storm, .repeatedTruncated, .presence: .guest
        }
    }

    /// What an attack does on its connection, once signed in (all blocking, on a thread of its own).
    enum Step {
        case send([UInt8])
        /// `file.open` of the path and wait for the answer: its document id is used by later steps.
        case open(String, req: Int)
        /// A frame made with the document id the last `open` gave (or `fallback` when it was refused).
        case withDoc(fallback: Int, (Int) -> [UInt8])
        /// Reads what arrives for this long.
        case read(milliseconds: Int)
    }

    struct Script: @unchecked Sendable {
        var steps: [Step] = []
        /// Keeps the connection open until the batch's checks.
        var linger = false
        /// The attack named DIR's real path itself (its refusals may quote it back).
        var namesRoot = false
        /// An unauthenticated attack: open the channel (with the secret's key) before sending.
        var secure = false
        mutating func send(_ json: String) { steps.append(.send(Attacker.frame(json))) }
    }

    /// One attack; false when a signed-in family could not even get through the handshake.
    static func run(_ family: HostileProjectFuzzTests.Family, fixture: ProjectFuzzFixture, long: Bool, rng: inout SplitMix) async -> Bool {
        let access = access(family, rng: &rng)
        let tag = access == .guest ? "mallory" : access == .watcher ? "watcher-mallory" : "anon-mallory"
        let me = "\(tag)-\(rng.next() % 1_000_000_000)"
        if access != .guest { fixture.forbiddenAuthors.insert(me) }
        // As in the one-file fuzzer: strangers from 127.0.0.2 (wrong proofs lock it out), members from 127.0.0.3.
        guard let client = try? FuzzClient(port: fixture.port, from: access == .anonymous ? "127.0.0.2" : "127.0.0.3", timeout: 2) else { return false }
        var generator = Frames(fixture: fixture, me: me, access: access, long: long, rng: rng)
        var script: Script
        if access == .anonymous {
            script = generator.anonymous()
            rng = generator.rng
            let secured = script.secure
            let secret = fixture.secret(watcher: false)
            _ = try? await offPool {
                if secured { client.secure(secret: secret, session: "") }
            }
        } else {
            guard await client.handshake(secret: fixture.secret(watcher: access == .watcher), peer: me, session: "") != nil else {
                rng = generator.rng
                return false
            }
            script = generator.script(family)
            rng = generator.rng
        }
        let steps = script
        let heard = (try? await offPool { () -> [WireMessage] in
            var heard: [WireMessage] = []
            var doc: Int?
            for step in steps.steps {
                switch step {
                case .send(let bytes): client.write(bytes)
                case .open(let path, let req):
                    guard let open = try? MessageCodec.encode(.fileOpen(FileOpen(req: req, path: path))) else { continue }
                    client.write(Attacker.frame(open))
                    let answer = client.messages(within: 2000) {
                        switch $0 {
                        case .fileState(let state): state.req == req
                        case .refused(let refused): refused.req == req
                        default: false
                        }
                    }
                    heard += answer
                    if case .fileState(let state)? = answer.last { doc = state.doc } else { doc = nil }
                case .withDoc(let fallback, let make): client.write(make(doc ?? fallback))
                case .read(let milliseconds): heard += client.messages(within: milliseconds)
                }
            }
            heard += client.messages(within: 30)
            return heard
        }) ?? []
        inspect(heard, access: access, me: me, namesRoot: steps.namesRoot, fixture: fixture)
        if steps.linger { fixture.lingering.append(client) }
        return true
    }

    /// What the attacker was sent: nothing from outside DIR or ignored, no index entry it must not
    /// see, no success for a watcher's change, no host path in a refusal.
    static func inspect(_ messages: [WireMessage], access: Access, me: String, namesRoot: Bool, fixture: ProjectFuzzFixture) {
        for message in messages {
            switch message {
            case .fileState(let state):
                let text = state.update.ops.map { if case .insert(let insert) = $0 { insert.text } else { "" } }.joined()
                if let secret = ProjectFuzzFixture.secretContents.first(where: text.contains) {
                    fixture.findings.append("\(access.rawValue) \(me) opened \(state.path.prefix(60).debugDescription) and got \(secret)")
                }
            case .files(let page):
                let hidden = page.entries.map(\.path).filter { ProjectFuzzFixture.hidden($0) || fixture.throughSymlink($0) }
                if !hidden.isEmpty { fixture.findings.append("\(access.rawValue) \(me) was listed \(hidden.prefix(3))") }
                if page.entries.count > FilesPage.maxEntries { fixture.findings.append("a page of \(page.entries.count) entries") }
            case .fileChanged(let change) where change.req != nil && access != .guest:
                fixture.findings.append("\(access.rawValue) \(me) was allowed \(change.change.rawValue) \(change.path)")
            case .refused(let refused) where !namesRoot && (refused.message.contains(fixture.rootPath) || refused.message.contains(fixture.files.base.path)):
                fixture.findings.append("a refusal told \(me) the host's path: \(refused.message.prefix(120))")
            default:
                break
            }
        }
    }

    /// The frames of each family, from a seeded generator.
    struct Frames {
        let fixture: ProjectFuzzFixture
        let me: String
        let access: Access
        let long: Bool
        var rng: SplitMix
        private var req = 0

        init(fixture: ProjectFuzzFixture, me: String, access: Access, long: Bool, rng: SplitMix) {
            self.fixture = fixture; self.me = me; self.access = access; self.long = long; self.rng = rng
        }

        /// Integers at every edge (each decodes as an Int64).
        static let integers = ["0", "-1", "1", "2147483646", "2147483647", "2147483648", "-2147483648", "4294967296", "9223372036854775807",
                               "-9223372036854775808", "-0"]
        /// Values that do not decode as an Int64 (the connection is failed: later frames go nowhere).
        static let junk = ["9223372036854775808", "1e308", "0.5", "null", "\"7\"", "[]", "{}", "true"]

        mutating func below(_ n: Int) -> Int { rng.below(n) }
        mutating func chance(_ n: Int) -> Bool { rng.below(n) == 0 }
        mutating func pick<T>(_ items: [T]) -> T { items[rng.below(items.count)] }
        /// An edge integer, one in five times a value that is no integer at all.
        mutating func extreme() -> String { chance(5) ? pick(Self.junk) : pick(Self.integers) }
        mutating func nextReq() -> Int {
            req += 1
            return req
        }

        /// A JSON string literal of `text` (control characters and NUL escaped, the rest as is).
        static func quoted(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }

        /// A name to create: marked for watchers and strangers, so their traces are found.
        mutating func freshName() -> String {
            let mark = access == .guest ? "fz" : access == .watcher ? "zz-watch" : "zz-anon"
            let name = "\(mark)-\(below(1_000_000))"
            switch below(6) {
            case 0: return "\(mark)/\(name).py"
            case 1: return "\(mark)/" + Array(repeating: "d", count: 1 + below(62)).joined(separator: "/") + "/\(name).py"
            case 2: return "\(mark)/\(String(repeating: "é", count: 100))-\(name).txt"
            case 3: return "\(mark)/sp ace/\(name) (1).py"
            default: return "\(name).py"
            }
        }

        /// Every kind of path a peer must not reach or should not be able to abuse; guests never aim at the canary.
        mutating func hostilePath() -> String {
            let n = below(1_000_000)
            let outside = fixture.files.outside.path, root = fixture.rootPath
            var paths: [String] = [
                "../outside/secret.txt", "../outside/evil-\(n).py", "../../../../../../../etc/passwd", "/etc/passwd", outside + "/secret.txt",
                outside + "/evil-\(n).py", fixture.evilPrefix + "\(n)", root + "/main.py", "docs/../main.py", "docs/../../outside/secret.txt",
                "./main.py", "main.py/", "/main.py", "", "main.py\u{0}", "main.py\u{0}/../../outside/secret.txt", "ma\u{1}in.py", "x\u{7f}.py",
                "x\u{85}.py", "x\u{9b}.py", "\u{1b}[2Jx.py", "\u{202E}yp.niam", "\u{200B}main.py", "main\u{FEFF}.py", "\u{2066}x\u{2069}.py",
                "x\u{61C}.py", "x\u{2060}.py", String(repeating: "a", count: 5000), String(repeating: "ab/", count: 1666) + "x",
                String(repeating: "n", count: 300) + ".py", String(repeating: "n", count: 256), String(repeating: "n", count: 255),
                Array(repeating: "d", count: 65).joined(separator: "/"), Array(repeating: "q", count: 64).joined(separator: "/"),
                Array(repeating: String(repeating: "L", count: 255), count: 16).joined(separator: "/"),
                "escape.txt", "escape.txt/x", "outdir", "outdir/secret.txt", "outdir/evil-\(n).py", "outdir/sub/other.txt", "alias.py",
                "key.secret", "sub/key.secret", "build/out.txt", "build", "build/new-\(n).py", ".git/config", ".git/hooks/pre-commit", ".git",
                ".gitignore", ".codesyncignore", "docs/.gitignore", ".codesync.json", "img/logo.png", "blob.txt", "big.txt", "docs", "docs/",
                "~/x", "$HOME/x", "%2e%2e/outside/secret.txt", "..\u{2215}outside", "\u{FF0E}\u{FF0E}/outside/secret.txt",
                "..\\outside\\secret.txt", "C:\\x", "main.py", "helper.py", "MAIN.PY", "ma\u{308}in.py", "main.py ", " main.py",
                "nonexistent/\(n).py", "state/../../state", "fresh-\(n)/key.secret", "fresh-\(n)/deep/x.secret", "fresh-\(n)/.git/config",
                "fresh-\(n)/.git/hooks/pre-commit", "fresh-\(n)/build/x.py", "docs/new-\(n)/.git/config",
            ]
            paths += fixture.honest.flatMap(\.openFiles).filter { !$0.hasPrefix("many/") }
            if access != .guest { paths += [ProjectFuzzFixture.canary, "canary", "canary/zz-\(access == .watcher ? "watch" : "anon")-\(n).py"] }
            return pick(paths)
        }

        /// A file to aim a change at: an honest peer's open file, one the attackers made, or a starting one.
        mutating func target() -> String {
            let honest = fixture.honest.flatMap(\.openFiles).filter { !$0.hasPrefix("many/") }
            switch below(3) {
            case 0 where !honest.isEmpty: return pick(honest)
            case 1 where !fixture.attackerFiles.isEmpty: return pick(fixture.attackerFiles)
            default: return pick(["main.py", "helper.py", "docs/README.md", "pkg/util.py", "alias.py", "escape.txt", "outdir"])
            }
        }

        mutating func request(_ type: String, path: String, to: String? = nil, text: String? = nil, req: String? = nil) -> String {
            var json = "{\"path\":\(Self.quoted(path)),\"req\":\(req ?? String(nextReq()))"
            if let to { json += ",\"to\":\(Self.quoted(to))" }
            if let text { json += ",\"text\":\(Self.quoted(text))" }
            return json + ",\"type\":\"\(type)\"}"
        }

        /// `doc.ops` of `update` (JSON) for `doc` (JSON, so any value).
        func docOps(_ doc: String, seq: String = "1", peer: String? = nil, _ update: String) -> [UInt8] {
            Attacker.frame("{\"doc\":\(doc),\"peer\":\"\(peer ?? me)\",\"seq\":\(seq),\"type\":\"doc.ops\",\"update\":\(update)}")
        }

        /// An insert of `text` at the start by `author` (its operation number `seq`).
        func insert(_ text: String, by author: String? = nil, seq: Int = 0) -> String {
            "{\"a\":[\"\(author ?? me)\"],\"o\":[[0,0,\(seq),-1,0,-1,0,\(Self.quoted(text))]]}"
        }

        var victims: [String] { fixture.honest.map(\.id) + [fixture.session.peer.id] }

        // swiftlint:disable:next function_body_length cyclomatic_complexity
        mutating func script(_ family: HostileProjectFuzzTests.Family) -> Script {
            var script = Script()
            let me = self.me
            switch family {
            case .hostilePaths:
                for _ in 0..<(1 + below(6)) {
                    let path = hostilePath()
                    script.namesRoot = script.namesRoot || path.contains(fixture.rootPath) || path.contains(fixture.files.base.path)
                    if chance(4) {
                        script.send("{\"known\":{\"\(pick(victims))\":\(pick(["9223372036854775807", "2147483648", "0", "1"]))},\"path\":\(Self.quoted(path)),\"req\":\(nextReq()),\"type\":\"file.open\"}")
                    } else {
                        script.send(request("file.open", path: path))
                    }
                }
                script.steps.append(.read(milliseconds: 40))
            case .binaryOpens:
                for _ in 0..<(1 + below(4)) {
                    script.send(request("file.open", path: pick(["big.txt", "blob.txt", "img/logo.png", "alias.py", "docs/README.md"])))
                }
                if access == .guest {
                    var name = freshName()
                    switch below(4) {
                    case 0: script.send(request("file.create", path: name, text: "a\u{0}b\u{1}c"))
                    case 1:
                        name += ".png"
                        script.send(request("file.create", path: name, text: "PNG"))
                    case 2: script.send(request("file.create", path: name, text: String(repeating: "y", count: (1 << 20) + 1)))
                    default: script.send(request("file.create", path: name, text: String(repeating: "z", count: long ? (1 << 20) : 200_000)))
                    }
                    script.steps.append(.read(milliseconds: 40))
                    script.steps.append(.open(name, req: nextReq()))
                    fixture.attackerFiles.append(name)
                }
                script.steps.append(.read(milliseconds: 40))
            case .listing:
                for _ in 0..<(1 + below(5)) {
                    let from = chance(2) ? extreme() : String(below(100_000))
                    let extra = chance(2) ? ",\"limit\":\(extreme()),\"count\":\(extreme()),\"to\":\(extreme())" : ""
                    script.send("{\"from\":\(from),\"req\":\(chance(3) ? extreme() : String(nextReq()))\(extra),\"type\":\"files.list\"}")
                }
                script.steps.append(.read(milliseconds: 60))
            case .foreignDocs:
                for _ in 0..<(1 + below(6)) {
                    let doc = chance(2) ? extreme() : String(1 + below(40))
                    let author = chance(2) ? me : pick(victims)
                    script.steps.append(.send(docOps(doc, seq: String(1 + below(5)), insert("EVIL", by: author, seq: below(3)))))
                }
                script.steps.append(.read(milliseconds: 30))
            case .docEdges:
                script.steps.append(.open(pick(fixture.honest.flatMap(\.openFiles) + ["main.py", "helper.py", "pkg/util.py"]), req: nextReq()))
                let fallback = 1 + below(10)
                let victim = pick(victims)
                switch below(7) {
                case 0:
                    // Operation numbers and counts at the Int32 edge.
                    let ops = chance(2) ? "[[1,0,0,0,2147483646,2]]" : "[[\(below(2)),0,\(extreme()),0,\(extreme()),\(extreme()),\(extreme()),\"EVIL\"]]"
                    script.steps.append(.withDoc(fallback: fallback) { Attacker.frame("{\"doc\":\($0),\"peer\":\"\(me)\",\"seq\":1,\"type\":\"doc.ops\",\"update\":{\"a\":[\"\(me)\"],\"o\":\(ops)}}") })
                case 1:
                    // Authored as an honest peer (alone, or after an op of its own), then a valid edit: both refused.
                    let forged = chance(2) ? "{\"a\":[\"\(victim)\"],\"o\":[[0,0,\(below(50)),-1,0,-1,0,\"EVIL\"]]}"
                        : "{\"a\":[\"\(me)\",\"\(victim)\"],\"o\":[[0,0,0,-1,0,-1,0,\"EVIL\"],[0,1,\(below(50)),-1,0,-1,0,\"EVIL\"]]}"
                    let after = insert("AFTERREFUSED", seq: 10)
                    script.steps.append(.withDoc(fallback: fallback) { Attacker.frame("{\"doc\":\($0),\"peer\":\"\(me)\",\"seq\":1,\"type\":\"doc.ops\",\"update\":\(forged)}") })
                    script.steps.append(.withDoc(fallback: fallback) { Attacker.frame("{\"doc\":\($0),\"peer\":\"\(me)\",\"seq\":2,\"type\":\"doc.ops\",\"update\":\(after)}") })
                case 2:
                    // A valid op, then one whose origin is a delete: all or nothing.
                    script.steps.append(.withDoc(fallback: fallback) {
                        Attacker.frame("{\"doc\":\($0),\"peer\":\"\(me)\",\"seq\":1,\"type\":\"doc.ops\",\"update\":{\"a\":[\"\(me)\"],\"o\":[[0,0,0,-1,0,-1,0,\"SMUGGLED\"],[1,0,8,0,0,1],[0,0,9,0,8,-1,0,\"y\"]]}}")
                    })
                case 3:
                    // doc.ops in another peer's name: the connection is failed.
                    let update = insert("EVIL", by: victim)
                    script.steps.append(.withDoc(fallback: fallback) {
                        Attacker.frame("{\"doc\":\($0),\"peer\":\"\(victim)\",\"seq\":1,\"type\":\"doc.ops\",\"update\":\(update)}")
                    })
                case 4:
                    // Over the document limits, or malformed in every field.
                    let update = chance(2) ? "{\"a\":[\"\(me)\"],\"o\":[[0,0,0,-1,0,-1,0,\"EVIL\"],[7,0,0]]}"
                        : "{\"a\":[\"\(me)\",null],\"o\":[[0,1,0,5,5,5,5,\"EVIL\"]]}"
                    script.steps.append(.withDoc(fallback: fallback) { Attacker.frame("{\"doc\":\($0),\"peer\":\"\(me)\",\"seq\":\(1),\"type\":\"doc.ops\",\"update\":\(update)}") })
                case 5:
                    // seq at the edges, then the same valid edit again (a duplicate, applied once).
                    let seq = extreme()
                    let update = insert("mal")
                    script.steps.append(.withDoc(fallback: fallback) { Attacker.frame("{\"doc\":\($0),\"peer\":\"\(me)\",\"seq\":\(seq),\"type\":\"doc.ops\",\"update\":\(update)}") })
                    script.steps.append(.withDoc(fallback: fallback) { Attacker.frame("{\"doc\":\($0),\"peer\":\"\(me)\",\"seq\":2,\"type\":\"doc.ops\",\"update\":\(update)}") })
                default:
                    // A few honest edits of its own: allowed, they reach the honest peers.
                    for k in 0..<(1 + below(3)) {
                        let update = insert("mal", seq: 3 * k)
                        script.steps.append(.withDoc(fallback: fallback) { Attacker.frame("{\"doc\":\($0),\"peer\":\"\(me)\",\"seq\":\(k + 1),\"type\":\"doc.ops\",\"update\":\(update)}") })
                    }
                }
                script.steps.append(.read(milliseconds: 30))
            case .hostileChanges:
                for _ in 0..<(1 + below(4)) {
                    let path = hostilePath(), other = chance(2) ? hostilePath() : freshName()
                    script.namesRoot = script.namesRoot || [path, other].contains { $0.contains(fixture.rootPath) || $0.contains(fixture.files.base.path) }
                    switch below(4) {
                    case 0: script.send(request("file.create", path: path, text: "created-by-mallory\n"))
                    case 1: script.send(request("file.rename", path: path, to: other))
                    case 2: script.send(request("file.rename", path: target(), to: path))
                    default: script.send(request("file.delete", path: path))
                    }
                }
                script.steps.append(.read(milliseconds: 40))
            case .storm:
                for _ in 0..<(2 + below(long ? 30 : 10)) {
                    switch below(8) {
                    case 0, 1:
                        let name = freshName()
                        fixture.attackerFiles.append(name)
                        script.send(request("file.create", path: name, text: "created-by-mallory\n"))
                    case 2, 3:
                        // A made file renamed on: to a fresh name, or onto an existing or honest open file (refused).
                        let from = target()
                        let fresh = chance(2)
                        let to = fresh ? freshName() : chance(2) ? ProjectFuzzFixture.many(below(ProjectFuzzFixture.manyCount)) : target()
                        if fresh, let index = fixture.attackerFiles.firstIndex(of: from) { fixture.attackerFiles[index] = to }
                        script.send(request("file.rename", path: from, to: to))
                    case 4:
                        script.send(request("file.delete", path: fixture.attackerFiles.isEmpty ? freshName() : pick(fixture.attackerFiles)))
                    case 5:
                        // Of a file an honest peer has open: allowed for an editing guest, and announced.
                        script.send(request("file.rename", path: target(), to: "moved/\(below(1_000_000)).py"))
                    case 6:
                        script.send(request("file.delete", path: target()))
                    default:
                        // Over a file that exists (refused), or over one that may (a new file when it is gone).
                        if chance(2) {
                            let path = chance(3) ? ProjectFuzzFixture.steady : ProjectFuzzFixture.many(below(ProjectFuzzFixture.manyCount))
                            script.send(request("file.create", path: path, text: "EVIL over an existing file"))
                        } else {
                            script.send(request("file.create", path: target(), text: "created-by-mallory, maybe over a file\n"))
                        }
                    }
                }
                if fixture.attackerFiles.count > 200 { fixture.attackerFiles.removeFirst(fixture.attackerFiles.count - 200) }
                script.steps.append(.read(milliseconds: 60))
            case .openStorm:
                let path = chance(2) ? target() : pick(["main.py", "helper.py", "docs/README.md", "big.txt"])
                let count = long ? 500 + below(2500) : 100 + below(300)
                // Each with a `known` of extreme counts (fewer of those: they are larger), or none.
                let keys = (0..<(1 + below(500))).map { "\"\(pick(victims + ["k\($0)"]))\":\($0 % 7 == 0 ? "9223372036854775807" : String($0))" }
                let known = chance(2) ? "" : "\"known\":{\(keys.joined(separator: ","))},"
                let frame = Attacker.frame("{\(known)\"path\":\(Self.quoted(path)),\"req\":1,\"type\":\"file.open\"}")
                script.steps.append(.send(Array([[UInt8]](repeating: frame, count: known.isEmpty ? count : min(count, 20)).joined())))
                script.steps.append(.read(milliseconds: 50))
            case .repeatedTruncated:
                let frames = [
                    Attacker.frame(request("file.create", path: freshName(), text: "created-by-mallory\n", req: "1")),
                    Attacker.frame(request("file.open", path: target())),
                    Attacker.frame("{\"from\":0,\"req\":3,\"type\":\"files.list\"}"),
                    Attacker.frame(request("file.rename", path: target(), to: freshName())),
                    docOps(String(1 + below(10)), seq: "1", insert("EVIL")),
                ]
                let frame = pick(frames)
                switch below(4) {
                case 0: script.steps.append(.send(Array([[UInt8]](repeating: frame, count: 2 + below(30)).joined())))
                case 1: script.steps.append(.send(Array(frame.prefix(1 + below(frame.count - 1)))))
                case 2:
                    // A length that claims more than follows, then the next frame swallowed by it.
                    var lying = frame
                    lying[3] = lying[3] &+ UInt8(1 + below(40))
                    script.steps.append(.send(lying + pick(frames)))
                default:
                    var cut = frame
                    cut[0...3] = [0, 0, 0, 2]
                    script.steps.append(.send(cut))
                }
                script.steps.append(.read(milliseconds: 30))
            case .presence:
                let file = chance(3) ? pick(fixture.honest.flatMap(\.openFiles) + ["main.py"]) : hostilePath()
                let anchor = "{\"a\":\"\(pick(victims + [me, "file-0000"]))\",\"s\":\(extreme()),\"l\":\(chance(2))}"
                script.send("{\"colour\":\(extreme()),\"cursor\":\(anchor),\"file\":\(Self.quoted(file)),\"mark\":\(anchor),\"name\":\"m\",\"peer\":\"\(me)\",\"type\":\"presence\"}")
                if chance(2) { script.send("{\"colour\":0,\"file\":\(Self.quoted(hostilePath())),\"name\":\"m\",\"peer\":\"\(me)\",\"type\":\"presence\"}") }
                script.steps.append(.read(milliseconds: 20))
                script.linger = fixture.lingering.count < 8
            case .runs:
                switch below(4) {
                case 0: script.send("{\"language\":\"python\",\"path\":\(Self.quoted(hostilePath())),\"peer\":\"\(me)\",\"source\":\"\",\"type\":\"run.request\"}")
                case 1: script.send("{\"language\":\"python\",\"path\":\"main.py\",\"peer\":\"\(pick(victims))\",\"source\":\"print(1)\",\"type\":\"run.request\"}")
                case 2: script.send("{\"peer\":\"\(pick(victims))\",\"run\":\"r1\",\"type\":\"run.cancel\"}")
                default: script.send("{\"by\":\"\(me)\",\"language\":\"python\",\"run\":\"r9\",\"type\":\"run.started\"}")
                }
                script.steps.append(.read(milliseconds: 20))
            case .watcher:
                let name = freshName()
                script.send(request("file.create", path: name, text: "WATCHER\n"))
                script.send(request("file.rename", path: pick([ProjectFuzzFixture.canary, "main.py", target()]), to: freshName()))
                script.send(request("file.rename", path: ProjectFuzzFixture.canary, to: ProjectFuzzFixture.canary + ".zz-watch"))
                script.send(request("file.delete", path: pick([ProjectFuzzFixture.canary, "main.py", target()])))
                script.steps.append(.open(pick([ProjectFuzzFixture.canary, target()]), req: nextReq()))
                let update = insert("WATCHER")
                script.steps.append(.withDoc(fallback: 1) { Attacker.frame("{\"doc\":\($0),\"peer\":\"\(me)\",\"seq\":1,\"type\":\"doc.ops\",\"update\":\(update)}") })
                script.send("{\"guests\":\"view\",\"type\":\"roles.set\"}")
                script.steps.append(.read(milliseconds: 40))
            case .anonymous:
                break
            }
            return script
        }

        /// Project frames from someone who is not signed in (two in three inside the channel, before any valid hello).
        mutating func anonymous() -> Script {
            var script = Script()
            script.secure = !chance(3)
            let name = freshName()
            var frames = [
                request("file.create", path: name, text: "ANON\n"),
                request("file.delete", path: ProjectFuzzFixture.canary),
                request("file.rename", path: ProjectFuzzFixture.canary, to: name),
                "{\"from\":0,\"req\":1,\"type\":\"files.list\"}",
                request("file.open", path: "main.py"),
            ]
            if chance(2) {
                // A hello with a wrong proof first (the server fails it; the rest must go nowhere).
                frames.insert("{\"known\":{},\"name\":\"m\",\"nonce\":\"00\",\"peer\":\"\(me)\",\"proof\":\"\(String(repeating: "ab", count: 32))\",\"role\":\"guest\",\"session\":\"\",\"type\":\"hello\",\"version\":\(WireProtocol.version)}", at: 0)
            }
            for json in frames where !chance(4) { script.send(json) }
            script.steps.append(.send(docOps("1", insert("ANON"))))
            script.steps.append(.read(milliseconds: 30))
            return script
        }
    }
}
