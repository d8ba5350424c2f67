import Foundation
import NIOCore

/// A shared folder (`codesync host DIR`) from a peer's side: list, open, edit and change files.
///
/// A file's remote edits are applied on the network thread as they arrive (unlike the session's
/// main document, which applies them in `poll`): offsets into a file are valid only until the next
/// call. Every request is answered or refused by the host; one it never answers fails after 30 s.
extension CollaborationPeer {
    /// True when the session shares a folder.
    public var isProject: Bool { withLock { core.isProject } }

    /// The whole index of the shared folder, in path order; `truncated` when the host indexed only part.
    public func listFiles() async throws -> (entries: [ProjectEntry], truncated: Bool) {
        var entries: [ProjectEntry] = []
        var truncated = false
        // A hostile host could announce pages forever: the host's own limit is 100 pages.
        for _ in 0..<1000 {
            let from = entries.count
            let answer = try await request { .filesList(FilesList(req: $0, from: from)) }
            guard case .files(let page) = answer, page.from == from else {
                throw SessionError.refused("the host answered files.list with \(answer.type)")
            }
            entries += page.entries
            truncated = page.truncated == true
            if page.entries.isEmpty || entries.count >= page.total { return (entries, truncated) }
        }
        throw SessionError.refused("the host's file list did not end after 1000 pages")
    }

    /// Opens the file at `path` (relative to the shared folder) and returns its text.
    @discardableResult
    public func openFile(_ path: String) async throws -> String {
        if let text = fileText(path) { return text }
        let answer = try await request { .fileOpen(FileOpen(req: $0, path: path)) }
        guard case .fileState = answer, let text = fileText(path) else {
            throw SessionError.refused("the host answered file.open with \(answer.type)")
        }
        return text
    }

    /// The text of an opened file, nil when it is not open.
    public func fileText(_ path: String) -> String? { withLock { core.fileText(path) } }

    /// Paths of the files this peer has open.
    public var openFiles: [String] { withLock { core.openFiles } }

    /// Inserts `text` at a scalar offset (clamped) of an opened file and sends it.
    public func insert(_ text: String, at offset: Int, inFile path: String) throws {
        try withLock { perform(try core.insert(text, at: offset, inFile: path)) }
    }

    /// Deletes `count` scalars at `offset` (clamped) of an opened file and sends it.
    public func delete(at offset: Int, count: Int, inFile path: String) throws {
        try withLock { perform(try core.delete(at: offset, count: count, inFile: path)) }
    }

    /// Creates a file (and missing folders) in the shared folder; refused if it exists.
    public func createFile(_ path: String, text: String = "") async throws {
        _ = try await request { .fileCreate(FileRequest(req: $0, path: path, text: text)) }
    }

    /// Renames a file of the shared folder; refused if `newPath` exists.
    public func renameFile(_ path: String, to newPath: String) async throws {
        _ = try await request { .fileRename(FileRequest(req: $0, path: path, to: newPath)) }
    }

    /// Deletes a file of the shared folder.
    public func deleteFile(_ path: String) async throws {
        _ = try await request { .fileDelete(FileRequest(req: $0, path: path)) }
    }

    /// The file changes (created, renamed, deleted, by anyone) heard since the last call.
    public func takeFileChanges() -> [FileChanged] {
        withLock { core.takeFileChanges() }
    }

    // MARK: Internals

    /// Sends a request numbered by this peer and waits for its answer (or refusal, as an error).
    private func request(_ make: @escaping (Int) -> WireMessage) async throws -> WireMessage {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<WireMessage, any Error>) in
            if !register(continuation, make) {
                continuation.resume(throwing: SessionError.refused("not connected to the session"))
            }
        }
    }

    /// Numbers and sends a request, its continuation waiting for the answer; false when not connected.
    private func register(_ continuation: CheckedContinuation<WireMessage, any Error>, _ make: (Int) -> WireMessage) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard link?.isWelcomed == true, let numbered = core.request(make) else { return false }
        let req = numbered.req
        pendingRequests[req] = continuation
        perform(numbered.output)
        group.next().scheduleTask(in: .seconds(30)) { [weak self] in
            self?.failRequest(req, SessionError.timedOut("the host did not answer within 30 s (an older host without shared folders?)"))
        }
        return true
    }

    private func failRequest(_ req: Int, _ error: any Error) {
        let waiting = withLock {
            core.forget(req)
            return pendingRequests.removeValue(forKey: req)
        }
        waiting?.resume(throwing: error)
    }

    /// Fails every request still waiting (the link went away).
    func failProjectRequests(_ error: any Error) {
        let waiting = withLock {
            defer { pendingRequests = [:] }
            return Array(pendingRequests.values)
        }
        for continuation in waiting { continuation.resume(throwing: error) }
    }

    typealias Resumption = (CheckedContinuation<WireMessage, any Error>, Result<WireMessage, any Error>)

    /// Hands the core's answers to the requests waiting for them (lock held); resume them outside it.
    func takeWaiting(_ answers: [RequestAnswer]) -> [Resumption] {
        answers.compactMap { answer in
            pendingRequests.removeValue(forKey: answer.req).map { ($0, answer.result.mapError { $0 as any Error }) }
        }
    }
}
