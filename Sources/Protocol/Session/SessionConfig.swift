import Foundation
import NIOCore

/// Timeouts and memory bounds for session connections; tests shrink them.
public struct SessionLimits: Sendable {
    /// Largest frame payload accepted or sent.
    public var maxPayload = FrameLimits.defaultMaxPayload
    /// How often each side pings.
    public var pingInterval: TimeAmount = .seconds(1)
    /// A connection that has sent nothing (not even a pong) for this long is dead.
    public var deadAfter: TimeAmount = .seconds(4)
    /// The hello must arrive within this long after connecting.
    public var handshakeTimeout: TimeAmount = .seconds(10)
    /// Channel write-buffer high-water mark: above it the peer counts as not reading.
    public var writeHighWater = 1 << 20
    /// Low-water mark at which a peer counts as reading again.
    public var writeLowWater = 256 << 10
    /// Bytes queued for a peer beyond the high-water mark before it is cut off as a slow reader.
    public var maxBacklog = 8 << 20
    /// How long a peer may stay above the high-water mark before it is cut off.
    public var maxBacklogTime: TimeAmount = .seconds(15)
    /// Wrong secrets from one address before further attempts are refused.
    public var authFailuresBeforeLockout = 5
    /// How long an address stays refused after too many wrong secrets.
    public var authLockout: TimeAmount = .seconds(30)
    /// First delay before answering a wrong secret; doubles with each further failure.
    public var authFailureDelay: TimeAmount = .milliseconds(200)
    /// Kernel send buffer per accepted connection in bytes; nil lets the kernel size it (tests shrink it
    /// so back-pressure shows up after kilobytes, not megabytes).
    public var socketSendBuffer: Int?
    /// A relay forgets a session (and its document) after this long with nobody connected.
    public var relaySessionIdleTimeout: TimeAmount = .hours(1)
    /// Sessions a relay keeps at once.
    public var maxSessions = 1000
    /// Sessions a relay keeps for hosts at one address: registering costs a key pair, so without it
    /// one address could fill the relay (several hosts behind one NAT still fit).
    public var maxSessionsPerAddress = 16
    /// Joiners from one address waiting on a relay for one session's host: one address cannot take
    /// every waiting slot of a session and keep its real guests out.
    public var maxRelayWaitingPerAddress = 16
    /// Peers in one session.
    public var maxPeersPerSession = 64
    /// What peers' edits may make of a session's document (size, history, runs waiting for missing
    /// ones); the server's replica refuses an update beyond them whole (`refused`, nothing applied).
    /// A server holds no waiting runs: honest peers send in causal order over one TCP stream, so every
    /// op they send builds on what the server has; one that would wait is refused instead of forwarded
    /// (a peer that received it could not tell it from a real dependency on its own future edits).
    public var document: DocumentLimits = {
        var limits = DocumentLimits()
        limits.maxWaitingRuns = 0
        return limits
    }()
    /// Largest frame payload a server reads before a hello is accepted (see `FrameLimits.helloMaxPayload`).
    public var maxPayloadBeforeHello = FrameLimits.helloMaxPayload
    /// Benchmarks only (`codesync bench latency --plaintext`, for the cost of encryption): connections
    /// skip the secure channel. A peer with it off refuses a peer with it on (the handshake fails),
    /// so nothing falls back to plaintext by itself.
    public var plaintextForBenchmark = false
    /// Connections from one address that have not completed a hello yet.
    public var maxPendingPerAddress = 16
    /// Connections, over all addresses, that have not completed a hello yet.
    public var maxPending = 256
    /// Frames per second a guest may send on average (a token bucket; above it the server stops
    /// reading from that connection until the bucket refills: back-pressure, never a close).
    public var framesPerSecond = 200.0
    /// Frames a guest may send at once before the rate applies.
    public var frameBurst = 400.0
    /// Bytes per second a guest may send on average (same bucket rule as frames).
    public var bytesPerSecond = 2.0 * 1024 * 1024
    /// Bytes a guest may send at once before the rate applies; nil: one largest frame (`maxPayload`).
    public var byteBurst: Double?
    /// A host that admits guests itself (`--approve`): joiners waiting for its decision at once
    /// (more are told the lobby is full), so a flood cannot fill its memory or its screen.
    public var maxWaiting = 16
    /// Of those, joiners from one address (relayed ones count by their own address).
    public var maxWaitingPerAddress = 4
    /// How long a joiner may wait for the host's decision before it is told to try again.
    public var lobbyTimeout: TimeAmount = .minutes(10)

    /// The defaults.
    public init() {}
}

/// A place to connect to: `HOST:PORT`, or `HOST:PORT/SESSION` for a session on a relay.
public struct SessionAddress: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Relay session id; empty for a direct host.
    public var session: String

    /// Creates an address.
    public init(host: String, port: Int, session: String = "") {
        self.host = host; self.port = port; self.session = session
    }

    /// Parses `HOST:PORT[/SESSION]` (also `codesync://HOST:PORT[/SESSION]` and `[v6]:PORT`).
    public init(parsing text: String) throws {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("codesync://") { rest = rest.dropFirst("codesync://".count) }
        var session = ""
        if let slash = rest.firstIndex(of: "/") {
            session = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        let host: Substring, portText: Substring
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
            portText = rest[close...].dropFirst().drop { $0 == ":" }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            throw SessionError.badAddress(text)
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port),
            session.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        else { throw SessionError.badAddress(text) }
        self.init(host: String(host), port: port, session: session)
    }

    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return session.isEmpty ? "\(hostPart):\(port)" : "\(hostPart):\(port)/\(session)"
    }
}

/// Things that go wrong when hosting or joining, each with a message that says what to do.
public enum SessionError: Error, Equatable, CustomStringConvertible, Sendable {
    case badAddress(String)
    case connectionRefused(String)
    case cannotConnect(String, String)
    case wrongSecret
    case hostNotAuthentic
    case versionMismatch(ours: [Int], theirs: [Int])
    case noSuchSession(String)
    case rejected(String)
    /// A request the host refused, or one that cannot be made now; the connection stays up.
    case refused(String)
    case timedOut(String)
    case portInUse(host: String, port: Int)
    case cannotBind(host: String, port: Int, reason: String)
    case closed
    case file(String)
    /// The secure channel caught an altered, replayed, reordered, dropped or cut record.
    case tampered(String)
    /// The host decided: it did not admit this peer from its lobby, or removed it from the session.
    case notAdmitted(String)

    public var description: String {
        switch self {
        case .badAddress(let text):
            "'\(text)' is not an address: use HOST:PORT (e.g. 127.0.0.1:7878) or RELAY-HOST:PORT/SESSION"
        case .connectionRefused(let address):
            "connection refused by \(address): is `codesync host` (or the relay) running there, and is the port right?"
        case .cannotConnect(let address, let reason):
            "cannot connect to \(address): \(reason)"
        case .wrongSecret:
            "wrong secret: the host refused the proof; copy the --secret from the host's join line again"
        case .hostNotAuthentic:
            "the other side does not know the session secret (its proof was wrong); it is not the host you meant"
        case .versionMismatch(let ours, let theirs):
            "protocol version mismatch: this codesync speaks \(list(ours)), the other side speaks \(list(theirs)); "
                + (theirs.allSatisfy { $0 < (ours.max() ?? 0) }
                    ? "the other side (the host or relay) runs an older codesync without encryption: upgrade it to one that speaks version \(ours.max() ?? 0)"
                    : "upgrade this codesync to one that speaks \(list(theirs))")
        case .noSuchSession(let id):
            "the relay has no session '\(id)': check the session id in the join line, or the host is not registered yet"
        case .rejected(let message):
            "the other side closed the connection: \(message)"
        case .refused(let message):
            message
        case .timedOut(let what):
            "timed out \(what)"
        case .portInUse(let host, let port):
            "port \(port) on \(host) is already in use: pick another with --port (or --port 0 for any free port)"
        case .cannotBind(let host, let port, let reason):
            "cannot listen on \(host):\(port): \(reason)"
        case .closed:
            "the session is closed"
        case .file(let message):
            message
        case .tampered(let message):
            "the connection was dropped: \(message)"
        case .notAdmitted(let message):
            message
        }
    }

    private func list(_ versions: [Int]) -> String {
        versions.count == 1 ? "version \(versions[0])" : "versions \(versions.map(String.init).joined(separator: ", "))"
    }
}
