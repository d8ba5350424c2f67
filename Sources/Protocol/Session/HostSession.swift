import CodeSyncBase
import Foundation
import Logging

/// A host: serves a file directly (with its own server) or through a relay, journals every
/// edit to the state directory, and edits the document itself through `peer`.
public final class HostSession: Sendable {
    /// How to host.
    public struct Options: Sendable {
        public var file: URL
        public var bind = "127.0.0.1"
        /// nil: the port of a recovered session, else 7878. 0: any free port.
        public var port: Int?
        public var name: String
        /// Take joiners through this relay (blind: it forwards their encrypted bytes to this host's
        /// own server); without `listenToo` the server listens on loopback only, for the host's editor.
        public var relay: SessionAddress?
        /// With `relay`: listen directly as well (one server, one document for both kinds of joiner).
        public var listenToo = false
        /// What guests with the edit secret may do at first (`setGuests` changes it live). This
        /// host's own server enforces it, for relayed joiners too.
        public var guests = GuestAccess.editRun
        /// Every guest waits in a lobby until the host admits it (`admit`, `refuse`; `remove` works either way).
        public var approve = false
        public var limits = SessionLimits()
        /// Bounds on a shared folder's index and open files (`host DIR` only).
        public var projectLimits = ProjectTree.Limits()
        public var stateDirectory = StateDirectory.url
        public var logger = Logger(label: "codesync.host")

        public init(file: URL, name: String) {
            self.file = file
            self.name = name
        }
    }

    /// The default port of `codesync host`.
    public static let defaultPort = 7878

    /// The host's own participant: the editor drives the document through it.
    public let peer: CollaborationPeer
    /// The server whose hub holds the document and admits every joiner (through a relay too).
    public let server: SessionServer?
    /// The session secret (also kept in the journal, so a restarted host keeps its join line).
    public let secret: String
    /// The watch-only secret: joiners proving it may only watch.
    public let viewSecret: String?
    /// Where joiners connect.
    public let joinAddress: SessionAddress
    /// The relay address, when also registered on a relay while listening.
    public let bridgedRelayAddress: SessionAddress?
    /// Edits recovered from a journal left by a host that did not stop cleanly; nil when none.
    public let recovered: Int?
    public let file: URL
    /// True when `file` is a folder shared as a project (`codesync host DIR`).
    public let isProject: Bool
    /// The descriptor `codesync attach` finds this session by, when the local socket is open.
    public let localDescriptor: URL?
    /// Every guest waits in the lobby until the host admits it.
    public let approves: Bool
    /// Held while hosting: a second host of the same file stops before touching the journal.
    private let lock: JournalLock
    /// Set when FILE changed since a journal left by an unclean stop: that session's text was put aside here.
    public let setAside: URL?

    /// The line to hand to the other person.
    public var joinLine: String { Self.joinLine(address: joinAddress, secret: secret) }

    /// Every join line: the direct one, then the relay one when also listening directly.
    public var joinLines: [String] {
        [joinLine] + (bridgedRelayAddress.map { [Self.joinLine(address: $0, secret: secret)] } ?? [])
    }

    /// The line for a watch-only guest.
    public var watchLine: String? { viewSecret.map { Self.joinLine(address: joinAddress, secret: $0) } }

    /// A join command that keeps the secret out of `ps`: an environment variable is readable only by
    /// the same user (/proc/PID/environ), whereas a command-line argument is readable by everyone.
    public static func joinLine(address: SessionAddress, secret: String) -> String {
        "CODESYNC_SECRET=\(secret) codesync join \(address)"
    }

    /// The address and secret of a line made by `joinLine(address:secret:)` (after any `watch only: `).
    public static func parseJoinLine(_ line: String) -> (address: String, secret: String)? {
        let words = line.split(separator: " ").map(String.init)
        guard let start = words.firstIndex(where: { $0.hasPrefix("CODESYNC_SECRET=") }), words.count >= start + 4,
              words[start + 1] == "codesync", words[start + 2] == "join" else { return nil }
        return (words[start + 3], String(words[start].dropFirst("CODESYNC_SECRET=".count)))
    }

    /// What guests with the edit secret may do now.
    public var guests: GuestAccess { peer.guests ?? .editRun }

    /// Changes what guests with the edit secret may do, at once for everyone connected (relayed
    /// joiners too: they are members of this host's server). Watch-only guests stay watch-only.
    public func setGuests(_ guests: GuestAccess) {
        peer.setGuests(guests)
    }

    private init(peer: CollaborationPeer, server: SessionServer?, secret: String, joinAddress: SessionAddress, recovered: Int?, file: URL,
                 lock: JournalLock, setAside: URL?, relayAddress: SessionAddress? = nil, viewSecret: String? = nil, localDescriptor: URL? = nil,
                 approves: Bool = false, isProject: Bool = false) {
        self.approves = approves
        self.isProject = isProject
        self.localDescriptor = localDescriptor
        self.lock = lock
        self.setAside = setAside
        self.viewSecret = viewSecret
        self.bridgedRelayAddress = relayAddress
        self.peer = peer
        self.server = server
        self.secret = secret
        self.joinAddress = joinAddress
        self.recovered = recovered
        self.file = file
    }

    /// Starts hosting `options.file` (created empty if missing), recovering a journal if one was left.
    public static func start(_ options: Options) async throws -> HostSession {
        let file = options.file.standardizedFileURL
        var isDirectory: ObjCBool = false
        // A folder is shared as a project: its files are documents opened on demand; the session's own
        // document stays empty (and is journaled only for the session's identity: secret, port).
        let isProject = FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory) && isDirectory.boolValue
        let journalURL = Journal.url(for: file, directory: options.stateDirectory)
        // First of all: a second host of the same file must not touch the running host's journal.
        let lock = try JournalLock(journal: journalURL, file: file)
        let hubAgent = "host-\(Auth.randomHex(count: 3))"
        var recovered = try Journal.recover(url: journalURL, agent: hubAgent)
        var setAside: URL?
        if let found = recovered, let digest = found.header.fileDigest, let now = FileDigest.ofFile(file), now != digest {
            // FILE changed after the journal's last save (say a `git pull`): the file wins, and the
            // unsaved session's text is kept beside it, so nothing is silently dropped or overwritten.
            setAside = try putAside(found.replica.text, of: file)
            recovered = nil
            options.logger.notice(
                "\(file.path) changed since the unsaved session journaled at \(journalURL.path): hosting the file as it is now; that session's text is in \(setAside?.path ?? "-") (compare, then delete it)")
        }
        let replica: Replica
        var header: JournalHeader
        if let recovered {
            replica = recovered.replica
            header = recovered.header
            options.logger.notice("recovered the unsaved session for \(file.path) from \(journalURL.path) (\(recovered.updates) edits after the last snapshot)")
        } else {
            replica = Replica(agent: hubAgent)
            let text = isProject ? "" : try readOrCreate(file)
            if !text.isEmpty { replica.insert(text, at: 0) }
            header = JournalHeader(file: file.path, session: "", secret: Auth.generateSecret(), port: options.port ?? defaultPort,
                                   fileDigest: isProject ? nil : FileDigest.of(text))
        }
        let hostSecret: String
        if let kept = header.hostSecret {
            hostSecret = kept
        } else {
            // A new session, or a journal from before host keys: a host key, and the session id that goes with it.
            hostSecret = Auth.generateSecret()
            header.hostSecret = hostSecret
        }
        // Always from the host key (a journal of an older version derived it differently): a relay
        // registers the session only under this id.
        header.session = Auth.sessionID(hostSecret: hostSecret)
        let viewSecret = Auth.viewSecret(for: header.secret)
        let finalHeader = header
        var peerOptions = CollaborationPeer.Options(name: options.name, secret: header.secret)
        peerOptions.role = .host
        peerOptions.limits = options.limits
        peerOptions.logger = options.logger
        peerOptions.agent = CollaborationPeer.makeAgent(name: options.name)
        peerOptions.hostSecret = hostSecret
        peerOptions.viewSecret = viewSecret
        peerOptions.guests = options.guests
        peerOptions.fileName = isProject ? nil : file.lastPathComponent

        // Always a server of its own, whose hub is the authority for every joiner: direct ones, and
        // those a relay forwards (blind: it passes their encrypted bytes to this server). Through a
        // relay only, it listens on loopback alone, for the host's own editor.
        let relayOnly = options.relay != nil && !options.listenToo
        let bind = relayOnly ? "127.0.0.1" : options.bind
        let port = relayOnly ? 0 : options.port ?? (recovered != nil ? header.port : defaultPort)
        let box = LoopConfined(value: replica)
        var project = isProject
            ? ProjectOptions(root: file.path, stateDirectory: options.stateDirectory, journalPort: relayOnly ? finalHeader.port : port) : nil
        project?.limits = options.projectLimits
        let server = try await SessionServer.host(
            sessionID: header.session, secret: header.secret, bind: bind, port: port, limits: options.limits,
            logger: options.logger, viewSecret: viewSecret, guests: options.guests, hostSecret: hostSecret, approve: options.approve, project: project
        ) {
            var saved = finalHeader
            saved.port = relayOnly ? finalHeader.port : port
            return (box.value, try Journal(url: journalURL, header: saved, replica: box.value))
        }
        let local = SessionAddress(host: loopback(for: bind), port: server.port)
        let peer: CollaborationPeer
        do {
            peer = try await CollaborationPeer.join(local, options: peerOptions)
        } catch {
            await server.shutdown()
            throw error
        }
        let localDescriptor = await listenLocally(server: server, session: header.session, secret: header.secret, file: file, logger: options.logger)
        let shown = SessionAddress(host: isWildcardBind(bind) ? "127.0.0.1" : bind, port: server.port)
        var relayAddress: SessionAddress?
        if let relay = options.relay {
            let address = SessionAddress(host: relay.host, port: relay.port, session: header.session)
            do {
                try await server.attachRelay(address, hostSecret: hostSecret)
            } catch {
                await peer.close()
                await server.shutdown()
                throw error
            }
            relayAddress = address
        }
        return HostSession(peer: peer, server: server, secret: header.secret, joinAddress: relayOnly ? relayAddress ?? shown : shown,
                           recovered: recovered?.updates, file: file, lock: lock, setAside: setAside,
                           relayAddress: relayOnly ? nil : relayAddress, viewSecret: viewSecret, localDescriptor: localDescriptor,
                           approves: options.approve, isProject: isProject)
    }

    /// Opens the unix socket `codesync attach` reaches (for `codesync join ssh://…`) and publishes
    /// the session's descriptor beside it. Hosting goes on without it when it cannot (say, a runtime
    /// directory someone else owns): a warning says why.
    private static func listenLocally(server: SessionServer, session: String, secret: String, file: URL, logger: Logger) async -> URL? {
        do {
            let dir = try LocalSessions.prepare()
            let socket = try LocalSessions.socketPath(session: session, in: dir)
            try await server.listenLocal(at: socket)
            let real = file.resolvingSymlinksInPath().standardizedFileURL.path
            return try LocalSessions.publish(.init(pid: getpid(), file: real, secret: secret, socket: socket), name: session, in: dir)
        } catch {
            logger.warning("joining over SSH (codesync join ssh://…) will not reach this session: \(error)")
            return nil
        }
    }

    /// Writes the document atomically to the file.
    public func save() async throws {
        if isProject, let server {
            let failures = await server.saveProject()
            if !failures.isEmpty { throw SessionError.file(failures.joined(separator: "; ")) }
        } else if let server {
            try await server.save(to: file)
        } else {
            // The host's duty, not the peer's: a guest's peer has no file code.
            try AtomicFile.write(peer.text, to: file)
        }
    }

    /// A shared folder: writes one file (`path` as listed) atomically, if the session edited it.
    public func saveFile(_ path: String) async throws {
        guard isProject, let server else { throw SessionError.file("this session shares one file, not a folder") }
        let failures = await server.saveProject(only: path)
        if !failures.isEmpty { throw SessionError.file(failures.joined(separator: "; ")) }
    }

    /// Stops hosting. With `save`, writes the file first. The journal is deleted after a save, or
    /// when `discardJournal` says the user quit on purpose (the editor's Ctrl-Q, having answered
    /// whether to save); otherwise it stays for the next start to recover. Then releases the lock.
    public func shutdown(save: Bool, discardJournal: Bool = false) async throws {
        defer { lock.release() }
        var saved = false
        if save {
            try await self.save()
            saved = true
        }
        let discard = saved || discardJournal
        if let localDescriptor { unlink(localDescriptor.path) }
        await peer.close()
        await server?.shutdown(discardJournal: discard)
    }

    /// True for 0.0.0.0 and ::, which listen on every interface.
    public static func isWildcardBind(_ bind: String) -> Bool { bind == "0.0.0.0" || bind == "::" || bind == "[::]" }

    static func loopback(for bind: String) -> String {
        switch bind {
        case "0.0.0.0": "127.0.0.1"
        case "::", "[::]": "::1"
        default: bind
        }
    }

    /// Writes `text` to a new file beside `file` (`NAME.codesync-unsaved`, numbered if taken).
    private static func putAside(_ text: String, of file: URL) throws -> URL {
        for attempt in 0..<100 {
            let candidate = URL(fileURLWithPath: file.path + ".codesync-unsaved" + (attempt == 0 ? "" : "-\(attempt)"))
            let fd = open(candidate.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd < 0 {
                if errno == EEXIST { continue }
                throw SessionError.file("\(file.path) changed since the last session, and its unsaved text cannot be kept at \(candidate.path): \(String(cString: strerror(errno)))")
            }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
            return candidate
        }
        throw SessionError.file("\(file.path) changed since the last session, and 100 earlier .codesync-unsaved copies exist beside it: remove them")
    }

    private static func readOrCreate(_ file: URL) throws -> String {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: file.path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw SessionError.file("\(file.path) is a directory; give a file to host") }
            guard let data = manager.contents(atPath: file.path) else {
                throw SessionError.file("cannot read \(file.path): check its permissions")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw SessionError.file("\(file.path) is not UTF-8 text; codesync edits UTF-8 text files only")
            }
            return text
        }
        guard manager.createFile(atPath: file.path, contents: Data()) else {
            throw SessionError.file("cannot create \(file.path): does its folder exist and is it writable?")
        }
        return ""
    }
}

