import Crypto
@_spi(Wire) import CodeSyncDocument
import Foundation
import Logging
import NIOCore

/// One session's shared state on a host or relay: the document, who is in, where their cursors are.
///
/// Confined to the server's event loop. Ops are applied to the hub's replica first (so a
/// malformed update never reaches anybody), forwarded to the other members as the same bytes
/// that arrived, journaled, then acknowledged to the sender.
final class Hub {
    let id: String
    let key: SymmetricKey
    /// The watch-only secret's key: a joiner proving it gets `view` access.
    let viewKey: SymmetricKey?
    /// The key the `host` (and its bridge) must prove; nil: the session key (hosts before host keys).
    let hostKey: SymmetricKey?
    /// What joiners with the edit secret may do; the host changes it live (`roles.set`).
    private(set) var guestAccess: GuestAccess
    let replica: Replica
    let journal: Journal?
    let logger: Logger
    let limits: SessionLimits
    /// The shared folder, when the session shares one (`codesync host DIR`).
    let project: ProjectHost?
    private(set) var members: [String: ServerConnection] = [:]
    private var order: [String] = []
    private var presence: [String: PresenceInfo] = [:]
    private var colours: [String: Int] = [:]
    /// The run in progress, for peers that join during it.
    private var runReplay: RunReplay?
    /// The host's file name, from its hello.
    private var fileName: String?
    /// Peer tokens are derived from this (see `Auth.peerToken`): from the host key when there is
    /// one, so a restarted host (or a relay the host registers again) gives out the same tokens.
    private let tokenKey: SymmetricKey
    /// Ids a token was given out for in this process: a later hello for one must prove the token.
    private var issued: Set<String> = []
    /// The host admits every guest itself (`--approve`): new guests wait in `lobby` for its decision.
    let approve: Bool
    /// Guests waiting for the host's decision, by peer id, and their arrival order.
    private var lobby: [String: Waiting] = [:]
    private var lobbyOrder: [String] = []
    /// Ids the host admitted in this process: their token-proved reconnects skip the lobby.
    private var admitted: Set<String> = []
    /// Ids the host removed: their reconnects (token and all) are refused, or wait in the lobby
    /// again with `--approve`, until the host admits them again.
    private var removed: Set<String> = []

    /// A hello that passed every check but the host's decision.
    private struct Waiting {
        let connection: ServerConnection
        let hello: Hello
        let serverNonce: String
        let viewOnly: Bool
        let wasRemoved: Bool
    }

    init(id: String, key: SymmetricKey, replica: Replica, journal: Journal?, limits: SessionLimits, logger: Logger,
         viewKey: SymmetricKey? = nil, hostKey: SymmetricKey? = nil, guestAccess: GuestAccess = .editRun, approve: Bool = false,
         project: ProjectHost? = nil) {
        self.approve = approve
        self.id = id
        self.project = project
        self.key = key
        self.viewKey = viewKey
        self.hostKey = hostKey
        self.guestAccess = guestAccess
        self.replica = replica
        replica.limits = limits.document
        self.journal = journal
        self.limits = limits
        self.logger = logger
        tokenKey = hostKey.map(Auth.peerTokenKey(serverKey:)) ?? SymmetricKey(size: .bits256)
    }

    /// Peers connected now.
    var memberCount: Int { members.count }

    /// When the last member left (nil while anyone is connected).
    private(set) var emptySince: NIODeadline? = .now()

    /// A connection passed the proof: answer with the welcome and tell everyone else; or, when the
    /// host admits guests itself, put it in the lobby until the host decides.
    func join(_ connection: ServerConnection, hello: Hello, serverNonce: String, viewOnly: Bool = false) {
        let token = Auth.peerToken(tokenKey: tokenKey, session: id, peer: hello.peer)
        guard mayUse(hello, token: token, serverNonce: serverNonce) else {
            logger.warning("\(connection.remote) (\(hello.name)) claimed the id \(hello.peer) without its token")
            connection.fail(.auth, "the peer id \(hello.peer) belongs to another member of this session; join with an id of your own")
            return
        }
        // Only the host and its bridge (which proved the host key) skip the host's decisions.
        let decidedByHost = hello.role == .guest
        if decidedByHost && removed.contains(hello.peer) && !approve {
            logger.warning("\(connection.remote) (\(hello.name)) tried to come back as \(hello.peer), which the host removed")
            connection.fail(.auth, "you were removed from this session by the host", decision: .removed)
            return
        }
        // A token-proved reconnect of an id the host admitted (and has not removed since) goes straight in.
        let readmitted = hello.token != nil && admitted.contains(hello.peer)
        if approve && decidedByHost && !readmitted {
            wait(connection, hello: hello, serverNonce: serverNonce, viewOnly: viewOnly)
            return
        }
        welcome(connection, hello: hello, serverNonce: serverNonce, viewOnly: viewOnly, token: token)
    }

    /// Puts an authenticated guest in the lobby (bounded in all and per address) and tells the host.
    private func wait(_ connection: ServerConnection, hello: Hello, serverNonce: String, viewOnly: Bool) {
        guard hello.lobby == true else {
            connection.fail(.version, "this host admits each guest itself (codesync host --approve), and your codesync cannot wait for it: upgrade codesync")
            return
        }
        guard lobby[hello.peer] == nil else {
            connection.fail(.busy, "the peer id \(hello.peer) is already waiting for the host; try again shortly")
            return
        }
        guard lobby.count < limits.maxWaiting else {
            logger.warning("\(connection.remote) (\(hello.name)): the lobby is full")
            connection.fail(.busy, "the host's lobby is full (\(limits.maxWaiting) waiting); try again later")
            return
        }
        let fromThere = lobby.values.filter { $0.connection.remote == connection.remote }.count
        guard fromThere < limits.maxWaitingPerAddress else {
            logger.warning("\(connection.remote) (\(hello.name)): too many waiting from that address")
            connection.fail(.busy, "too many joiners from \(connection.remote) are waiting for the host (\(limits.maxWaitingPerAddress)); try again later")
            return
        }
        lobby[hello.peer] = Waiting(connection: connection, hello: hello, serverNonce: serverNonce, viewOnly: viewOnly,
                                    wasRemoved: removed.contains(hello.peer))
        lobbyOrder.append(hello.peer)
        connection.enterLobby(hub: self, peer: hello.peer, name: hello.name)
        logger.info("\(hello.name) (\(hello.peer), \(connection.remote)) waits for the host; \(lobby.count) waiting")
        tellHostLobby()
    }

    /// The lobby as the host sees it.
    private var lobbyEntries: [LobbyEntry] {
        lobbyOrder.compactMap { lobby[$0] }.map { waiting in
            LobbyEntry(peer: waiting.hello.peer, name: waiting.hello.name, from: String(waiting.connection.remote.prefix(128)),
                       access: waiting.viewOnly ? .view : guestAccess, removed: waiting.wasRemoved ? true : nil)
        }
    }

    /// Sends the lobby to the host's connection(s).
    private func tellHostLobby() {
        let message = WireMessage.lobby(Lobby(waiting: lobbyEntries))
        for peer in order { if let member = members[peer], member.role == .host { member.send(message) } }
    }

    private func takeFromLobby(_ peer: String) -> Waiting? {
        guard let waiting = lobby.removeValue(forKey: peer) else { return nil }
        lobbyOrder.removeAll { $0 == peer }
        return waiting
    }

    /// Host only: lets a waiting guest in (and takes back an earlier removal of its id).
    func admit(_ peer: String, from connection: ServerConnection) {
        guard decidesAsHost(connection, what: "lobby.admit") else { return }
        guard let waiting = takeFromLobby(peer) else {
            connection.send(.refused(Refused(what: "lobby.admit", message: "nobody with the id \(peer) is waiting (they may have left)")))
            return
        }
        removed.remove(peer)
        if admitted.count < Self.maxIssued { admitted.insert(peer) }
        logger.info("the host admitted \(waiting.hello.name) (\(peer))")
        tellHostLobby()
        welcome(waiting.connection, hello: waiting.hello, serverNonce: waiting.serverNonce, viewOnly: waiting.viewOnly,
                token: Auth.peerToken(tokenKey: tokenKey, session: id, peer: peer))
    }

    /// Host only: sends a waiting guest away.
    func refuse(_ peer: String, from connection: ServerConnection) {
        guard decidesAsHost(connection, what: "lobby.refuse") else { return }
        guard let waiting = takeFromLobby(peer) else {
            connection.send(.refused(Refused(what: "lobby.refuse", message: "nobody with the id \(peer) is waiting (they may have left)")))
            return
        }
        logger.info("the host refused \(waiting.hello.name) (\(peer))")
        tellHostLobby()
        waiting.connection.fail(.auth, "the host did not admit you to this session", decision: .refused)
    }

    /// Host only: takes a peer off the session (a waiting one is refused). Its id and token stop
    /// working: its reconnects are refused, or wait in the lobby again with `--approve`.
    func remove(_ peer: String, from connection: ServerConnection) {
        guard decidesAsHost(connection, what: "peer.remove") else { return }
        if lobby[peer] != nil {
            refuse(peer, from: connection)
            return
        }
        if let member = members[peer], member.role != .guest {
            connection.send(.refused(Refused(what: "peer.remove", message: "the host's own connections cannot be removed")))
            return
        }
        if removed.count < Self.maxIssued { removed.insert(peer) }
        admitted.remove(peer)
        guard let member = members[peer] else { return }
        logger.info("the host removed \(member.name) (\(peer))")
        // Everyone hears why; the removed peer hears it from its error.
        leave(member, reason: "removed by the host")
        member.fail(.auth, "you were removed from this session by the host", decision: .removed)
    }

    /// Admitting, refusing and removing are the host's alone: checked by the role the connection
    /// proved (the host key), never by what a message claims.
    private func decidesAsHost(_ connection: ServerConnection, what: String) -> Bool {
        guard connection.role == .host else {
            logger.warning("\(connection.describe) sent \(what), which only the host may")
            connection.send(.refused(Refused(what: what, message: "only the host admits, refuses or removes peers")))
            return false
        }
        return true
    }

    /// Makes `connection` a member: the welcome, then everyone else hears of it.
    private func welcome(_ connection: ServerConnection, hello: Hello, serverNonce: String, viewOnly: Bool, token: [UInt8]) {
        if let previous = members[hello.peer], previous !== connection {
            // The same peer reconnecting (its old connection may be half-open): the new one wins.
            members[hello.peer] = nil
            previous.close(reason: "replaced by a new connection from the same peer")
        } else if members.count >= limits.maxPeersPerSession {
            connection.fail(.limit, "the session is full (\(limits.maxPeersPerSession) peers)")
            return
        }
        let colour = colours[hello.peer] ?? freeColour(preferZero: hello.role == .host)
        colours[hello.peer] = colour
        members[hello.peer] = connection
        emptySince = nil
        order.removeAll { $0 == hello.peer }
        order.append(hello.peer)
        let info = PresenceInfo(peer: hello.peer, name: hello.name, colour: colour, cursor: presence[hello.peer]?.cursor, mark: presence[hello.peer]?.mark,
                                file: presence[hello.peer]?.file)
        presence[hello.peer] = info
        if hello.role == .host, let file = hello.file, !file.isEmpty, file.count <= 255, !file.contains("/") { fileName = file }
        let access: GuestAccess = hello.role != .guest ? .editRun : viewOnly ? .view : guestAccess
        connection.activate(hub: self, peer: hello.peer, name: hello.name, role: hello.role, access: access, watchOnly: viewOnly)
        if hello.role == .host, let wanted = hello.guests, wanted != guestAccess {
            // A host (re)connecting says what guests may do: it is the authority, the server only
            // enforces. The host itself learns it from its welcome.
            setGuests(wanted, except: hello.peer)
        }
        // The welcome proves the secret the joiner proved: the watch-only one for a watch-only joiner.
        let provedKey = viewOnly ? viewKey ?? key : key
        let proof = Auth.welcomeProof(key: provedKey, serverNonce: serverNonce, clientNonce: hello.nonce, session: hello.session, peer: hello.peer)
        let others = order.filter { $0 != hello.peer }.compactMap { presence[$0] }
        if issued.count < Self.maxIssued { issued.insert(hello.peer) }
        let masked = Auth.maskToken(token, key: provedKey, serverNonce: serverNonce, clientNonce: hello.nonce, peer: hello.peer)
        connection.sendWelcome(Welcome(
            version: hello.version, session: id, peer: hello.peer, colour: colour, proof: proof, peers: others,
            update: replica.updates(since: hello.known), known: replica.version, access: access, guests: guestAccess, file: fileName,
            token: masked, project: project != nil ? true : nil,
            run: project.flatMap { $0.runSettings.isEmpty ? nil : $0.runSettings }))
        broadcast(.presence(info), except: hello.peer)
        if hello.role != .host, let runReplay {
            for message in runReplay.messages { connection.send(message) }
        }
        // Always (an empty list too): a host back from a dropped connection must not keep showing
        // joiners who left the lobby while it was away.
        if hello.role == .host && approve { connection.send(.lobby(Lobby(waiting: lobbyEntries))) }
        logger.info("\(hello.name) joined as \(hello.peer) (\(hello.role.rawValue), \(access.rawValue), \(connection.remote)); \(members.count) connected")
    }

    /// Ids remembered as given out; past this many (a guest inventing ids by the thousand), ids are
    /// still bound while connected or once they authored ops.
    static let maxIssued = 65_536

    /// May this hello use its peer id? A fresh id, yes. An id that is connected now, that authored
    /// ops in the document, or that was given a token, only with a proof of that token, so nobody
    /// takes over (or evicts) another member's id. The host and its bridge proved the host key,
    /// from which every token derives, so they need none.
    private func mayUse(_ hello: Hello, token: [UInt8], serverNonce: String) -> Bool {
        if hello.role != .guest && hostKey != nil { return true }
        if let proof = hello.token {
            return Auth.verifyToken(proof, token: token, serverNonce: serverNonce, clientNonce: hello.nonce, session: hello.session, peer: hello.peer)
        }
        let bound = members[hello.peer] != nil || replica.version[hello.peer] > 0 || issued.contains(hello.peer)
            || admitted.contains(hello.peer) || removed.contains(hello.peer)
        return !bound
    }

    private func freeColour(preferZero: Bool) -> Int {
        let used = Set(members.keys.compactMap { colours[$0] })
        let start = preferZero ? 0 : 1
        for offset in 0..<8 {
            let colour = (start + offset) % 8
            if !used.contains(colour) { return colour }
        }
        return members.count % 8
    }

    /// Ops from a member: apply, forward, journal, acknowledge. `updateJSON`, when given, is the
    /// update's JSON as it arrived (journaled as is, saving an encoding per edit).
    func receive(_ ops: Ops, payload: ByteBuffer, updateJSON: ByteBuffer? = nil, from connection: ServerConnection) {
        var refused = connection.opsRefused
        defer { connection.opsRefused = refused }
        guard admitEdit(ops.update, to: replica, what: "ops", refusedBefore: &refused, from: connection,
                    reload: "reconnect for the current document") else { return }
        forward(frame: FrameEncoder.frame(payload.readableBytesView), except: connection.peer)
        if let journal {
            do {
                if let updateJSON {
                    try journal.append(updateJSON: updateJSON.readableBytesView)
                } else {
                    try journal.append(ops.update)
                }
                try journal.compactIfNeeded(replica)
            } catch {
                // Not acknowledging is the honest answer: the peer keeps the edit and resends it.
                logger.error("journal write failed, edits are not acknowledged: \(error)")
                return
            }
        }
        connection.acknowledge(ops.seq)
    }

    /// Applies a member's edit to `replica` after the checks every edit passes, for the session's
    /// document (`ops`) and a shared folder's (`doc.ops`) alike: its role, an earlier refusal on this
    /// connection (`refusedBefore`: later edits may build on the refused one), authorship, then the
    /// document's own dry run. A refusal (`what`, telling the peer to `reload`; `doc` and `seq` name a
    /// folder's document and edit) or a fault leaves the replica untouched, and nothing is forwarded, journaled or
    /// acknowledged. True when applied.
    func admitEdit(_ update: Update, to replica: Replica, what: String, refusedBefore: inout Bool, from connection: ServerConnection,
               reload: String, doc: Int? = nil, seq: Int? = nil) -> Bool {
        guard connection.access.canEdit, !refusedBefore else {
            let message = connection.access.canEdit
                ? "an earlier edit of yours was refused, so this one is too: \(reload)"
                : "you may only watch this session: your edit was not applied"
            refusedBefore = true
            connection.send(.refused(Refused(what: what, message: message, doc: doc, seq: seq)))
            return false
        }
        // A guest types only in its own name: an op of another agent would be typing in someone
        // else's name and taking operation numbers that agent will use (its edits would then be
        // dropped as duplicates). The host and its bridge pass on everybody's edits (a bridge joins a
        // relay's session to the direct one), so only they, having proved the host key, may.
        if connection.role == .guest || hostKey == nil, let foreign = foreignAuthor(in: update, sender: connection.peer) {
            logger.warning("\(connection.describe): refused \(what) authored by \(foreign)")
            refusedBefore = true
            connection.send(.refused(Refused(what: what, message: "your edit contains operations by \(foreign); you may only send your own (\(connection.peer)): it was not applied", doc: doc, seq: seq)))
            return false
        }
        do {
            _ = try replica.apply(update)
        } catch let error as DocumentError where error.kind == .limit {
            // Well formed but too much (document size, waiting runs): refused like an edit the role forbids,
            // so an honest guest reloads the document instead of resending it forever. Nothing was applied.
            logger.warning("\(connection.describe): update refused: \(error)")
            refusedBefore = true
            connection.send(.refused(Refused(what: what, message: "your edit was not applied: \(error)", doc: doc, seq: seq)))
            return false
        } catch {
            // The document's own message says what is malformed ("malformed update: ...").
            logger.warning("\(connection.describe): \(error)")
            connection.fail(.document, "\(error)")
            return false
        }
        return true
    }

    /// The first agent other than `sender` that authors an op of `update`, nil when all are its own.
    func foreignAuthor(in update: Update, sender: String) -> String? {
        for op in update.ops {
            let author: AgentID
            switch op {
            case .insert(let insert): author = insert.agent
            case .delete(let delete): author = delete.agent
            }
            if author != sender { return author }
        }
        return nil
    }

    /// The host changes what guests with the edit secret may do; anyone else is refused.
    func setGuests(_ guests: GuestAccess, from connection: ServerConnection) {
        guard connection.role == .host else {
            connection.send(.refused(Refused(what: "roles.set", message: "only the host decides what guests may do")))
            return
        }
        logger.info("\(connection.name) set guest access to \(guests.rawValue)")
        setGuests(guests, except: nil)
    }

    /// Applies a new guest access to every edit-secret guest and tells every member but `except`.
    private func setGuests(_ guests: GuestAccess, except: String?) {
        guestAccess = guests
        for peer in order where peer != except {
            guard let member = members[peer] else { continue }
            if member.role == .guest && !member.watchOnly { member.grant(guests) }
            member.send(.roles(Roles(guests: guests, access: member.access)))
        }
    }

    /// A member moved its cursor.
    func receivePresence(_ sent: PresenceInfo, from connection: ServerConnection) {
        guard var info = presence[connection.peer] else { return }
        info.cursor = sent.cursor
        info.mark = sent.mark
        // A file that is not a path of the shared folder's form (absolute, `..`, too long) is not passed on.
        info.file = sent.file.flatMap { project != nil && $0.utf8.count <= ProjectPath.maxBytes && (try? ProjectPath($0)) != nil ? $0 : nil }
        presence[connection.peer] = info
        broadcast(.presence(info), except: connection.peer)
    }

    /// Runs go to the host, their progress to everyone else.
    func route(_ message: WireMessage, payload: ByteBuffer, from connection: ServerConnection) {
        let frame = FrameEncoder.frame(payload.readableBytesView)
        switch message {
        case .runRequest, .runCancel:
            guard connection.access.canRun else {
                let what = connection.access.canEdit ? "edit" : "watch"
                connection.send(.refused(Refused(what: message.type, message: "you may only \(what) in this session: the host does not run code for you")))
                return
            }
            // The host shows who asked (and who cancelled) from the message: a guest speaks only for
            // itself. A bridge passes on the relay side's requests as they came.
            let claimed: String
            switch message {
            case .runRequest(let request): claimed = request.peer
            case .runCancel(let cancel): claimed = cancel.peer
            default: claimed = connection.peer
            }
            guard claimed == connection.peer || (connection.role != .guest && hostKey != nil) else {
                connection.send(.refused(Refused(what: message.type, message: "your \(message.type) names \(claimed); you may only ask as yourself (\(connection.peer))")))
                return
            }
            if let host = members.values.first(where: { $0.role == .host }), host !== connection {
                host.send(frame: frame)
            }
        default:
            guard connection.role == .host else {
                connection.fail(.protocol, "only the host reports runs")
                return
            }
            forward(frame: frame, except: connection.peer)
            switch message {
            case .runStarted(let started): runReplay = RunReplay(started: started)
            case .runOutput(let output) where output.run == runReplay?.started.run: runReplay?.append(output)
            case .runExited: runReplay = nil
            default: break
            }
        }
    }

    /// A connection went away.
    func leave(_ connection: ServerConnection, reason: String) {
        if !connection.peer.isEmpty, lobby[connection.peer]?.connection === connection {
            _ = takeFromLobby(connection.peer)
            logger.info("\(connection.name) (\(connection.peer)) stopped waiting: \(reason)")
            tellHostLobby()
            return
        }
        guard !connection.peer.isEmpty, members[connection.peer] === connection else { return }
        members[connection.peer] = nil
        if members.isEmpty { emptySince = .now() }
        order.removeAll { $0 == connection.peer }
        presence[connection.peer] = nil
        project?.leave(connection.peer)
        if connection.role == .host { runReplay = nil }
        broadcast(.left(Left(peer: connection.peer, reason: reason)), except: connection.peer)
        logger.info("\(connection.name) (\(connection.peer)) left: \(reason); \(members.count) connected")
    }

    /// Tells every member but `except`.
    func broadcast(_ message: WireMessage, except: String?) {
        guard let frame = try? MessageCodec.frame(message, maxPayload: limits.maxPayload) else { return }
        forward(frame: frame, except: except)
    }

    private func forward(frame: ByteBuffer, except: String?) {
        for peer in order where peer != except {
            members[peer]?.send(frame: frame)
        }
    }

    /// Says goodbye to every member (and everyone waiting).
    func closeAll(reason: String) {
        for peer in lobbyOrder {
            guard let waiting = lobby[peer] else { continue }
            waiting.connection.send(.bye(Bye(reason: reason)))
            waiting.connection.close(reason: reason)
        }
        for connection in members.values {
            connection.send(.bye(Bye(reason: reason)))
            connection.close(reason: reason)
        }
    }
}
