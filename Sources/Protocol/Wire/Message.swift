import Foundation
import NIOCore

/// Wire protocol versions this build speaks, newest last.
public enum WireProtocol {
    /// The version this build prefers. 2: host keys, roles through relays and live (`roles`).
    /// 3: peer tokens bind ids, a relay gets a relay host key instead of the host key.
    /// 4: every connection inside the secure channel (`SecureChannel`), relays blind.
    public static let version = SecureChannel.protocolVersion
    /// Every version this build can speak (1 lacked host keys: a version-1 relay would let any
    /// edit-secret holder act as host and could not enforce roles; 2 sent a relay the host key and
    /// let anyone take a connected peer's id; 3 was plaintext and let a relay read and change
    /// everything: none is spoken).
    public static let supportedVersions = [SecureChannel.protocolVersion]
}

/// A peer's role in a session.
public enum PeerRole: String, Codable, Sendable {
    /// The peer that owns the file (and, with a relay, registers the session).
    case host
    /// A host's own helper that passes edits between its direct server and a relay: proves the
    /// host key like the host, may always edit, but never receives run requests.
    case bridge
    /// Anybody else.
    case guest
}

/// Why a connection is being closed; travels in `error` frames.
public enum WireErrorCode: String, Codable, Sendable {
    case auth, version, frame, json, `protocol`, slow, timeout, limit, session, busy, document
}

/// The server's opening message: a fresh nonce the joiner must prove the secret over.
public struct Challenge: Codable, Equatable, Sendable {
    public var versions: [Int]
    public var nonce: String
    public var server: String
    public init(versions: [Int], nonce: String, server: String) {
        self.versions = versions; self.nonce = nonce; self.server = server
    }
}

/// The joiner's answer to a challenge: who it is, what it knows, and a proof of the secret.
public struct Hello: Codable, Equatable, Sendable {
    public var version: Int
    public var session: String
    public var peer: String
    public var name: String
    public var role: PeerRole
    public var nonce: String
    public var proof: String
    public var known: VersionVector
    /// Relay registration only: the derived session key (never the secret itself).
    public var key: String?
    /// Relay registration only: the relay host key the host proves to the relay (derived one way from
    /// the host key, which never leaves the host's process).
    public var relayKey: String?
    /// Relay registration only: the watch-only secret's key.
    public var viewKey: String?
    /// Host only: what guests with the edit secret may do (the server enforces it).
    public var guests: GuestAccess?
    /// Host only: the served file's name (no folders), which joiners show and take the language from.
    public var file: String?
    /// A reconnecting peer: proof that it holds the token its first welcome gave it (binds its id).
    public var token: String?
    /// The joiner can wait in a host's lobby (`lobby.wait`) for the host to admit it; a host that
    /// admits guests itself (`--approve`) refuses joiners without it, telling them to upgrade.
    public var lobby: Bool?
    public init(
        version: Int, session: String, peer: String, name: String, role: PeerRole, nonce: String,
        proof: String, known: VersionVector, key: String? = nil, relayKey: String? = nil, viewKey: String? = nil,
        guests: GuestAccess? = nil, file: String? = nil, token: String? = nil, lobby: Bool? = nil
    ) {
        self.version = version; self.session = session; self.peer = peer; self.name = name
        self.role = role; self.nonce = nonce; self.proof = proof; self.known = known; self.key = key
        self.relayKey = relayKey; self.viewKey = viewKey; self.guests = guests; self.file = file; self.token = token
        self.lobby = lobby
    }
}

/// Where a peer's cursor and selection are, as anchors that stick to characters.
public struct PresenceInfo: Codable, Equatable, Sendable {
    public var peer: String
    public var name: String
    public var colour: Int
    /// Caret position; nil until the peer has placed it.
    public var cursor: Anchor?
    /// The other end of the selection, nil when nothing is selected.
    public var mark: Anchor?
    /// A shared folder: the file (as listed by `files`) whose document the anchors are in; absent in
    /// a single-file session, or when the peer has no file open.
    public var file: String?
    public init(peer: String, name: String, colour: Int, cursor: Anchor? = nil, mark: Anchor? = nil, file: String? = nil) {
        self.peer = peer; self.name = name; self.colour = colour; self.cursor = cursor; self.mark = mark; self.file = file
    }
}

/// The server's acceptance: the joiner's identity, the peers, and what the joiner lacks.
public struct Welcome: Codable, Equatable, Sendable {
    public var version: Int
    public var session: String
    public var peer: String
    public var colour: Int
    public var proof: String
    public var peers: [PresenceInfo]
    public var update: Update
    /// The server's version vector, so the joiner can send exactly what the server lacks.
    public var known: VersionVector
    /// What the host lets this joiner do; absent means `edit+run` (hosts before roles).
    public var access: GuestAccess?
    /// What guests with the edit secret may do now (absent: hosts before live roles).
    public var guests: GuestAccess?
    /// The host's file name (no folders), once the host has joined.
    public var file: String?
    /// Frames that carry the document, this one included, when it did not fit one (absent: 1). The
    /// other parts follow at once as `ops` frames with `seq` 0; their updates, applied after this
    /// one's, complete it.
    public var parts: Int?
    /// The joiner's peer token, masked (see `Auth.maskToken`): a reconnect proves it to keep the id.
    public var token: String?
    /// True when the session shares a folder (`codesync host DIR`): its files are listed with
    /// `files.list` and opened with `file.open`; the welcome's own document is then empty.
    public var project: Bool?
    /// A shared folder's own run command (`.codesync.json` on the host's disk), so the joiner sees
    /// what a run will do before it asks for one; absent: runs run the file asked for.
    public var run: ProjectRunSettings?
    public init(
        version: Int, session: String, peer: String, colour: Int, proof: String, peers: [PresenceInfo],
        update: Update, known: VersionVector, access: GuestAccess? = nil, guests: GuestAccess? = nil, file: String? = nil,
        parts: Int? = nil, token: String? = nil, project: Bool? = nil, run: ProjectRunSettings? = nil
    ) {
        self.run = run
        self.version = version; self.session = session; self.peer = peer; self.colour = colour
        self.proof = proof; self.peers = peers; self.update = update; self.known = known; self.access = access
        self.guests = guests; self.file = file; self.parts = parts; self.token = token; self.project = project
    }
}

/// What a host lets a guest do (`codesync host --guests`).
public enum GuestAccess: String, Codable, Sendable, CaseIterable {
    case editRun = "edit+run"
    case edit
    case view

    /// The guest's edits reach the document.
    public var canEdit: Bool { self != .view }
    /// The guest may start and cancel runs.
    public var canRun: Bool { self == .editRun }
}

/// The host changes what guests with the edit secret may do (`roles.set`, host → server).
public struct RolesSet: Codable, Equatable, Sendable {
    /// What guests with the edit secret may do from now on.
    public var guests: GuestAccess
    public init(guests: GuestAccess) { self.guests = guests }
}

/// The server tells a member the session's guest access and its own (`roles`, server → peer).
public struct Roles: Codable, Equatable, Sendable {
    /// What guests with the edit secret may do now.
    public var guests: GuestAccess
    /// What the receiving peer may do now.
    public var access: GuestAccess
    public init(guests: GuestAccess, access: GuestAccess) { self.guests = guests; self.access = access }
}

/// The host refused one message of a peer (its role does not allow it); the connection stays open.
public struct Refused: Codable, Equatable, Sendable {
    /// The refused message's type, e.g. "ops" or "run.request".
    public var what: String
    public var message: String
    /// The refused request's `req` (project requests), so the peer knows which one.
    public var req: Int?
    /// The document of a refused `doc.ops`, so the peer knows which file to reload.
    public var doc: Int?
    /// The refused `doc.ops`'s `seq`: answered, never stored (an `ack` past it does not cover it).
    public var seq: Int?
    public init(what: String, message: String, req: Int? = nil, doc: Int? = nil, seq: Int? = nil) {
        self.what = what; self.message = message; self.req = req; self.doc = doc; self.seq = seq
    }
}

/// Document operations from one peer.
public struct Ops: Codable, Equatable, Sendable {
    public var peer: String
    /// Per-connection sequence number, echoed by `ack` once the server has journaled the ops.
    public var seq: Int
    public var update: Update
    /// Sender's wall clock when sent, ms since 1970 (latency measurement only).
    public var sentAt: Double?
    public init(peer: String, seq: Int, update: Update, sentAt: Double? = nil) {
        self.peer = peer; self.seq = seq; self.update = update; self.sentAt = sentAt
    }
}

/// The server has stored every `ops` up to `seq` from this connection.
public struct Ack: Codable, Equatable, Sendable {
    public var seq: Int
    public init(seq: Int) { self.seq = seq }
}

/// A peer left the session.
public struct Left: Codable, Equatable, Sendable {
    public var peer: String
    public var reason: String?
    public init(peer: String, reason: String? = nil) { self.peer = peer; self.reason = reason }
}

/// Liveness probe (`ping`) and its answer (`pong`, same id).
public struct Ping: Codable, Equatable, Sendable {
    public var id: Int
    public init(id: Int) { self.id = id }
}

/// Why the sender is about to close the connection.
public struct ErrorMessage: Codable, Equatable, Sendable {
    public var code: WireErrorCode
    public var message: String
    /// Set when the host decided it (`refused`: not admitted from its lobby; `removed`: taken off
    /// the peer list): not a fault, and retrying will not help. Older peers see code `auth`, which
    /// stops them too.
    public var decision: HostDecision?
    public init(code: WireErrorCode, message: String, decision: HostDecision? = nil) {
        self.code = code; self.message = message; self.decision = decision
    }
}

/// A host's decision that ends a connection (`error`'s `decision`).
public enum HostDecision: String, Codable, Sendable {
    case refused, removed

    // A decision this build does not know is still the host's: read as a refusal, never as malformed.
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        self = HostDecision(rawValue: name) ?? .refused
    }
}

/// The server tells a joiner it waits for the host to admit it (`lobby.wait`, server → joiner).
public struct LobbyWait: Codable, Equatable, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
}

/// One joiner waiting in the lobby, as the host sees it.
public struct LobbyEntry: Codable, Equatable, Sendable {
    public var peer: String
    public var name: String
    /// How it came, as the host's server saw it: an address, `ADDR via relay`, or `ssh (local socket)`.
    public var from: String
    /// What it gets when admitted (`view` for the watch-only secret).
    public var access: GuestAccess
    /// Its id was removed by the host earlier in this session.
    public var removed: Bool?
    public init(peer: String, name: String, from: String, access: GuestAccess, removed: Bool? = nil) {
        self.peer = peer; self.name = name; self.from = from; self.access = access; self.removed = removed
    }
}

/// Everyone waiting for the host's decision, oldest first (`lobby`, server → host).
public struct Lobby: Codable, Equatable, Sendable {
    public var waiting: [LobbyEntry]
    public init(waiting: [LobbyEntry]) { self.waiting = waiting }
}

/// The host's decision about one peer (`lobby.admit`, `lobby.refuse`, `peer.remove`; host → server).
public struct PeerChoice: Codable, Equatable, Sendable {
    public var peer: String
    public init(peer: String) { self.peer = peer }
}

/// A clean goodbye.
public struct Bye: Codable, Equatable, Sendable {
    public var reason: String?
    public init(reason: String? = nil) { self.reason = reason }
}

/// A peer asks the host to run the buffer as it saw it.
public struct RunRequestMessage: Codable, Equatable, Sendable {
    public var peer: String
    public var language: String
    public var source: String
    /// In a shared folder: the file to run, relative to the folder (checked by the host like any
    /// peer's path); the host then runs the session's text of every file, and `source` is unused.
    public var path: String?
    public init(peer: String, language: String, source: String, path: String? = nil) {
        self.peer = peer; self.language = language; self.source = source; self.path = path
    }
}

/// A peer asks the host to cancel a run.
public struct RunCancelMessage: Codable, Equatable, Sendable {
    public var peer: String
    public var run: String
    public init(peer: String, run: String) { self.peer = peer; self.run = run }
}

/// The host started a run.
public struct RunStartedMessage: Codable, Equatable, Sendable {
    public var run: String
    /// The requester's peer id.
    public var by: String
    public var language: String
    /// The requester's display name (absent from hosts before names were sent).
    public var byName: String?
    /// Which version of the text ran: 16 hex digits of a content hash (absent from older hosts;
    /// receivers accept only that exact form).
    public var version: String?
    /// In a shared folder: the file that runs (absent with a project command that names none).
    public var path: String?
    /// In a shared folder: the project's own command that runs (`.codesync.json`), if it has one.
    public var command: String?
    public init(run: String, by: String, language: String, byName: String? = nil, version: String? = nil,
                path: String? = nil, command: String? = nil) {
        self.run = run; self.by = by; self.language = language; self.byName = byName; self.version = version
        self.path = path; self.command = command
    }
}

/// The program stream a `run.output` chunk came from: `"stdout"` or `"stderr"` on the wire.
public enum RunStream: String, Codable, Equatable, Sendable, CaseIterable {
    case stdout, stderr

    // A name this build does not know is refused as malformed input (a hostile or broken host),
    // never shown as some other stream.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let known = RunStream(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown run stream \(WireName.quoted(name)); expected stdout or stderr")
        }
        self = known
    }
}

/// How a run ended, as `run.exited` names it (docs/PROTOCOL.md, "Shared runs").
public enum RunEnding: String, Codable, Equatable, Sendable, CaseIterable {
    case exited, timedOut, outOfMemory, killed, outputLimit, cancelled, buildFailed, buildTimedOut
    /// The sandbox itself failed (its reason was sent first as a `stderr` chunk).
    case failed

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let known = RunEnding(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "unknown run outcome \(WireName.quoted(name)); expected one of \(RunEnding.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = known
    }
}

/// Quoting a peer's word in an error message: short, so a hostile megabyte is not echoed back.
enum WireName {
    static func quoted(_ name: String) -> String {
        name.count <= 32 ? "'\(name)'" : "'\(name.prefix(32))…'"
    }
}

/// A chunk of a run's output.
public struct RunOutputMessage: Codable, Equatable, Sendable {
    public var run: String
    public var stream: RunStream
    public var text: String
    public init(run: String, stream: RunStream, text: String) { self.run = run; self.stream = stream; self.text = text }
}

/// A run ended.
public struct RunExitedMessage: Codable, Equatable, Sendable {
    public var run: String
    public var outcome: RunEnding
    /// The exit code for `exited`, 128 + the signal for `killed`, the build's code for `buildFailed`.
    public var code: Int?
    public var durationMs: Int
    /// Who cancelled it (peer id), when cancelled.
    public var by: String?
    /// The canceller's display name.
    public var byName: String?
    public init(run: String, outcome: RunEnding, code: Int?, durationMs: Int, by: String? = nil, byName: String? = nil) {
        self.run = run; self.outcome = outcome; self.code = code; self.durationMs = durationMs; self.by = by
        self.byName = byName
    }
}

/// One protocol message: a JSON object whose `type` names the case.
public enum WireMessage: Equatable, Sendable {
    case challenge(Challenge)
    case hello(Hello)
    case welcome(Welcome)
    case ops(Ops)
    case ack(Ack)
    case presence(PresenceInfo)
    case left(Left)
    case ping(Ping)
    case pong(Ping)
    case error(ErrorMessage)
    case bye(Bye)
    case runRequest(RunRequestMessage)
    case runCancel(RunCancelMessage)
    case runStarted(RunStartedMessage)
    case runOutput(RunOutputMessage)
    case runExited(RunExitedMessage)
    /// A shared folder's run command changed (server → peers; see `Welcome.run`).
    case runConfig(ProjectRunSettings)
    case refused(Refused)
    case rolesSet(RolesSet)
    case roles(Roles)
    case lobbyWait(LobbyWait)
    case lobby(Lobby)
    case lobbyAdmit(PeerChoice)
    case lobbyRefuse(PeerChoice)
    case peerRemove(PeerChoice)
    case filesList(FilesList)
    case files(FilesPage)
    case fileOpen(FileOpen)
    case fileState(FileState)
    case docOps(DocOps)
    case fileCreate(FileRequest)
    case fileRename(FileRequest)
    case fileDelete(FileRequest)
    case fileChanged(FileChanged)
    /// A message type this build does not know (from a newer peer).
    case unknown(type: String)

    /// The `type` field's value.
    public var type: String {
        switch self {
        case .challenge: "challenge"
        case .hello: "hello"
        case .welcome: "welcome"
        case .ops: "ops"
        case .ack: "ack"
        case .presence: "presence"
        case .left: "left"
        case .ping: "ping"
        case .pong: "pong"
        case .error: "error"
        case .bye: "bye"
        case .runRequest: "run.request"
        case .runCancel: "run.cancel"
        case .runStarted: "run.started"
        case .runOutput: "run.output"
        case .runExited: "run.exited"
        case .runConfig: "run.config"
        case .refused: "refused"
        case .rolesSet: "roles.set"
        case .roles: "roles"
        case .lobbyWait: "lobby.wait"
        case .lobby: "lobby"
        case .lobbyAdmit: "lobby.admit"
        case .lobbyRefuse: "lobby.refuse"
        case .peerRemove: "peer.remove"
        case .filesList: "files.list"
        case .files: "files"
        case .fileOpen: "file.open"
        case .fileState: "file.state"
        case .docOps: "doc.ops"
        case .fileCreate: "file.create"
        case .fileRename: "file.rename"
        case .fileDelete: "file.delete"
        case .fileChanged: "file.changed"
        case .unknown(let type): type
        }
    }
}

/// A payload that is not a valid message.
public struct MessageError: Error, Equatable, CustomStringConvertible, Sendable {
    public var description: String
    /// The `error` code to answer with: `json` for malformed messages, `limit` for breaking a cap.
    public var code: WireErrorCode
    public init(_ description: String, code: WireErrorCode = .json) { self.description = description; self.code = code }
}

extension WireMessage: Codable {
    private enum TypeKey: String, CodingKey { case type }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: TypeKey.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "challenge": self = .challenge(try Challenge(from: decoder))
        case "hello": self = .hello(try Hello(from: decoder))
        case "welcome": self = .welcome(try Welcome(from: decoder))
        case "ops": self = .ops(try Ops(from: decoder))
        case "ack": self = .ack(try Ack(from: decoder))
        case "presence": self = .presence(try PresenceInfo(from: decoder))
        case "left": self = .left(try Left(from: decoder))
        case "ping": self = .ping(try Ping(from: decoder))
        case "pong": self = .pong(try Ping(from: decoder))
        case "error": self = .error(try ErrorMessage(from: decoder))
        case "bye": self = .bye(try Bye(from: decoder))
        case "run.request": self = .runRequest(try RunRequestMessage(from: decoder))
        case "run.cancel": self = .runCancel(try RunCancelMessage(from: decoder))
        case "run.started": self = .runStarted(try RunStartedMessage(from: decoder))
        case "run.output": self = .runOutput(try RunOutputMessage(from: decoder))
        case "run.exited": self = .runExited(try RunExitedMessage(from: decoder))
        case "run.config": self = .runConfig(try ProjectRunSettings(from: decoder))
        case "refused": self = .refused(try Refused(from: decoder))
        case "roles.set": self = .rolesSet(try RolesSet(from: decoder))
        case "roles": self = .roles(try Roles(from: decoder))
        case "lobby.wait": self = .lobbyWait(try LobbyWait(from: decoder))
        case "lobby": self = .lobby(try Lobby(from: decoder))
        case "lobby.admit": self = .lobbyAdmit(try PeerChoice(from: decoder))
        case "lobby.refuse": self = .lobbyRefuse(try PeerChoice(from: decoder))
        case "peer.remove": self = .peerRemove(try PeerChoice(from: decoder))
        case "files.list": self = .filesList(try FilesList(from: decoder))
        case "files": self = .files(try FilesPage(from: decoder))
        case "file.open": self = .fileOpen(try FileOpen(from: decoder))
        case "file.state": self = .fileState(try FileState(from: decoder))
        case "doc.ops": self = .docOps(try DocOps(from: decoder))
        case "file.create": self = .fileCreate(try FileRequest(from: decoder))
        case "file.rename": self = .fileRename(try FileRequest(from: decoder))
        case "file.delete": self = .fileDelete(try FileRequest(from: decoder))
        case "file.changed": self = .fileChanged(try FileChanged(from: decoder))
        default: self = .unknown(type: type)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .challenge(let m): try m.encode(to: encoder)
        case .hello(let m): try m.encode(to: encoder)
        case .welcome(let m): try m.encode(to: encoder)
        case .ops(let m): try m.encode(to: encoder)
        case .ack(let m): try m.encode(to: encoder)
        case .presence(let m): try m.encode(to: encoder)
        case .left(let m): try m.encode(to: encoder)
        case .ping(let m), .pong(let m): try m.encode(to: encoder)
        case .error(let m): try m.encode(to: encoder)
        case .bye(let m): try m.encode(to: encoder)
        case .runRequest(let m): try m.encode(to: encoder)
        case .runCancel(let m): try m.encode(to: encoder)
        case .runStarted(let m): try m.encode(to: encoder)
        case .runOutput(let m): try m.encode(to: encoder)
        case .runExited(let m): try m.encode(to: encoder)
        case .runConfig(let m): try m.encode(to: encoder)
        case .refused(let m): try m.encode(to: encoder)
        case .rolesSet(let m): try m.encode(to: encoder)
        case .roles(let m): try m.encode(to: encoder)
        case .lobbyWait(let m): try m.encode(to: encoder)
        case .lobby(let m): try m.encode(to: encoder)
        case .lobbyAdmit(let m), .lobbyRefuse(let m), .peerRemove(let m): try m.encode(to: encoder)
        case .filesList(let m): try m.encode(to: encoder)
        case .files(let m): try m.encode(to: encoder)
        case .fileOpen(let m): try m.encode(to: encoder)
        case .fileState(let m): try m.encode(to: encoder)
        case .docOps(let m): try m.encode(to: encoder)
        case .fileCreate(let m), .fileRename(let m), .fileDelete(let m): try m.encode(to: encoder)
        case .fileChanged(let m): try m.encode(to: encoder)
        case .unknown: break
        }
    }
}

/// Turns messages into frame payloads and back. Pure: no I/O.
public enum MessageCodec {
    /// JSON bytes of `message` (keys sorted, so frames are reproducible).
    public static func encode(_ message: WireMessage) throws -> [UInt8] {
        if let bytes = FastCodec.encode(message) { return bytes }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(message))
    }

    /// A whole frame (length prefix + JSON) for `message`.
    public static func frame(_ message: WireMessage, maxPayload: Int = FrameLimits.defaultMaxPayload) throws -> ByteBuffer {
        let payload = try encode(message)
        if payload.count > maxPayload { throw FrameError.oversized(length: payload.count, limit: maxPayload) }
        return FrameEncoder.frame(payload)
    }

    /// Decodes one frame payload; a payload that is not a JSON object with a string `type` is a `MessageError`.
    public static func decode(_ payload: ByteBuffer) throws -> WireMessage {
        try decode(payload.readableBytesView)
    }

    /// Decodes one frame payload given as bytes.
    public static func decode(_ bytes: some Collection<UInt8>) throws -> WireMessage {
        try decodeKeepingUpdate(bytes).message
    }

    /// Decodes one frame payload; for an `ops` message read by the fast path, also the byte range
    /// (within `bytes`, from 0) of its `update` JSON, which a host journals without encoding it again.
    static func decodeKeepingUpdate(_ bytes: some Collection<UInt8>) throws -> (message: WireMessage, update: Range<Int>?) {
        // One linear pass with the parse caps; only input that passed them reaches Foundation's decoder.
        let outcome = try bytes.withContiguousStorageIfAvailable { try read(UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes { try read($0) }
        if case .decoded(let fast) = outcome { return (fast.message, fast.update) }
        return (try decodeWithCodable(bytes), nil)
    }

    /// The fast path's reading, with a cap breach (also one found by the scanner) thrown as `limit`.
    private static func read(_ bytes: UnsafeRawBufferPointer) throws -> FastCodec.Outcome {
        let outcome = FastCodec.read(bytes)
        switch outcome {
        case .refused(let why):
            throw MessageError("message refused: \(why)", code: .limit)
        case .fallback(scanned: false):
            if let why = JSONScanner.violation(in: bytes) { throw MessageError("message refused: \(why)", code: .limit) }
            return outcome
        default:
            return outcome
        }
    }

    private static func decodeWithCodable(_ bytes: some Collection<UInt8>) throws -> WireMessage {
        do {
            return try JSONDecoder().decode(WireMessage.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw MessageError(describe(error))
        } catch {
            throw MessageError("malformed JSON: \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "malformed JSON"
        case .dataCorrupted(let context):
            return "bad value at \(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "missing field \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "malformed message"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}
