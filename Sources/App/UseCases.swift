import CodeSyncProtocol
import Foundation

/// `codesync host FILE`: starts the session, prints its join lines, then edits it in the full-screen
/// editor or serves it headless. Returns the signal that ended the editor, or 0.
public enum Hosting {
    public static func run(_ options: HostSession.Options, headless: Bool) async throws -> Int32 {
        let stop = StopSignal()
        let session = try await HostSession.start(options)
        for line in session.joinLines { say(line) }
        if let watch = session.watchLine { say("watch only: \(watch)") }
        if options.approve { note("every guest waits for you to admit it" + (headless ? ": `admit ID` or `refuse ID` on stdin" : " (Ctrl-W)")) }
        if let project = await session.server?.projectSummary() {
            for line in project.recovered { note(line) }
            note("sharing \(project.files) files of \(session.file.path)\(project.truncated ? " (the index stopped at its limit)" : "")")
        }
        if HostSession.isWildcardBind(options.bind) {
            note("listening on every interface: give others this machine's address in place of 127.0.0.1")
        }
        if !headless { return try await SessionEditor.host(session, userName: options.name) }
        try await HeadlessHost(session: session, stop: stop).serve()
        return 0
    }
}

/// `codesync join ADDRESS`: joins, then edits in the full-screen editor, or (headless, or typing for
/// the latency benchmark) drives the peer from stdin. Returns the signal that ended the editor, or 0.
public enum Joining {
    /// `shown`: the address as the user typed it (for the status bar), e.g. `ssh://box/~/a.py`.
    public static func run(_ address: SessionAddress, shown: String, options: CollaborationPeer.Options, headless: Bool, typing: Typing?) async throws -> Int32 {
        var options = options
        options.recordLatency = typing != nil
        // Before the editor starts: on the terminal as it is (stderr), until the host decides.
        options.onWaiting = options.onWaiting ?? { note("waiting for the host to admit you…") }
        let peer = try await CollaborationPeer.join(address, options: options)
        if !headless && typing == nil { return try await SessionEditor.join(peer, address: shown, userName: options.name) }
        let headlessPeer = HeadlessPeer(peer: peer, typing: typing)
        // On the peer's network thread: remote edits reach the loop, and its edits the socket, without a thread hop.
        try await withTaskExecutorPreference(peer.taskExecutor) { try await headlessPeer.run() }
        return 0
    }
}

/// `codesync relay`: serves many isolated sessions until SIGINT/SIGTERM.
public enum Relaying {
    public static func run(bind: String, port: Int) async throws {
        let stop = StopSignal()
        let server = try await SessionServer.relay(bind: bind, port: port)
        say("relay listening on \(SessionAddress(host: bind, port: server.port))")
        note("hosts register with: codesync host FILE --relay \(SessionAddress(host: bind, port: server.port))")
        while !stop.isStopped {
            try? await Task.sleep(for: .milliseconds(200))
        }
        await server.shutdown()
    }
}
