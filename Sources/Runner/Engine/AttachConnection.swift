import CodeSyncBase
import NIOCore

/// A hijacked attach connection: writes go to the container's stdin, frames come from its stdout/stderr.
///
/// Frames that arrive before a receiver is set are kept and replayed to it, so a pooled container can
/// be attached long before its run exists. The connection is always read to its end (never paused):
/// an unread attach stream can make a later kill hang inside the engine.
final class AttachConnection: Sendable {
    private struct State {
        var parser = HTTPResponseParser()
        var attached = false
        var decoder = AttachStreamDecoder()
        var pending: [AttachStreamDecoder.Frame] = []
        var endError: (any Error)??  // .some(nil): ended cleanly
        var onFrame: (@Sendable (AttachStreamDecoder.Frame) -> Void)?
        var onEnd: (@Sendable ((any Error)?) -> Void)?
        var attachWaiter: CheckedContinuation<Void, any Error>?
        var channel: (any Channel)?
    }

    private let state: Locked<State>
    private let socketPath: String

    init(socketPath: String) {
        self.socketPath = socketPath
        var initial = State()
        initial.parser.stopAfterHead = true
        state = Locked(initial)
    }

    var channel: (any Channel)? {
        get { state.withLock { $0.channel } }
        set { state.withLock { $0.channel = newValue } }
    }

    /// True while the connection is open.
    var isOpen: Bool { state.withLock { $0.endError == nil && ($0.channel?.isActive ?? false) } }

    func received(_ bytes: [UInt8]) {
        var deliver: [AttachStreamDecoder.Frame] = []
        var waiter: CheckedContinuation<Void, any Error>?
        var failure: (any Error)?
        var receiver: (@Sendable (AttachStreamDecoder.Frame) -> Void)?
        state.withLock { s in
            var streamBytes = bytes
            if !s.attached {
                do {
                    try s.parser.feed(bytes)
                } catch {
                    failure = RunnerError.engineLost(socket: socketPath, detail: "bad attach response: \(error)")
                    waiter = s.attachWaiter
                    s.attachWaiter = nil
                    return
                }
                guard let head = s.parser.head else { return }
                guard head.status == 101 || head.status == 200 else {
                    failure = head.status == 404
                        ? RunnerError.engine(status: 404, message: "container vanished before attach")
                        : RunnerError.engine(status: head.status, message: "attach refused: \(head.reason)")
                    waiter = s.attachWaiter
                    s.attachWaiter = nil
                    return
                }
                s.attached = true
                waiter = s.attachWaiter
                s.attachWaiter = nil
                streamBytes = s.parser.remainder
            }
            guard !streamBytes.isEmpty else { return }
            do {
                let frames = try s.decoder.feed(streamBytes)
                if let onFrame = s.onFrame {
                    deliver = frames
                    receiver = onFrame
                } else {
                    s.pending.append(contentsOf: frames)
                }
            } catch {
                // A corrupt stream cannot be resynchronised: close it; the run then ends through `ended`.
                s.channel?.close(promise: nil)
            }
        }
        if let failure {
            waiter?.resume(throwing: failure)
            channel?.close(promise: nil)
        } else {
            waiter?.resume()
        }
        if let receiver { for frame in deliver { receiver(frame) } }
    }

    func ended(_ error: (any Error)?) {
        let (waiter, onEnd) = state.withLock { s -> (CheckedContinuation<Void, any Error>?, (@Sendable ((any Error)?) -> Void)?) in
            s.endError = .some(error)
            defer { s.attachWaiter = nil }
            return (s.attachWaiter, s.onEnd)
        }
        waiter?.resume(throwing: RunnerError.engineLost(socket: socketPath, detail: "attach connection closed"))
        onEnd?(error)
    }

    /// Waits for the engine to accept the attach request.
    func waitUntilAttached() async throws {
        let socket = socketPath
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let immediate: Result<Void, any Error>? = state.withLock { s in
                if s.attached { return .success(()) }
                if s.endError != nil {
                    return .failure(RunnerError.engineLost(socket: socket, detail: "attach connection closed"))
                }
                s.attachWaiter = continuation
                return nil
            }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    /// True once the engine accepted the attach request.
    var isAttached: Bool { state.withLock { $0.attached } }

    /// Sets the receiver of frames and of the end; frames already received are replayed first.
    func setReceiver(onFrame: @escaping @Sendable (AttachStreamDecoder.Frame) -> Void, onEnd: @escaping @Sendable ((any Error)?) -> Void) {
        let (replay, end) = state.withLock { s -> ([AttachStreamDecoder.Frame], (any Error)??) in
            s.onFrame = onFrame
            s.onEnd = onEnd
            defer { s.pending = [] }
            return (s.pending, s.endError)
        }
        for frame in replay { onFrame(frame) }
        if let end { onEnd(end) }
    }

    /// Writes bytes to the container's stdin.
    func write(_ bytes: [UInt8]) async throws {
        guard let channel else { throw RunnerError.engineLost(socket: socketPath, detail: "attach connection not open") }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        do {
            try await channel.writeAndFlush(buffer)
        } catch {
            throw RunnerError.engineLost(socket: socketPath, detail: "writing stdin: \(error)")
        }
    }

    /// Ends the container's stdin (half-closes our side; the engine then closes stdin, StdinOnce).
    func closeInput() async {
        try? await channel?.close(mode: .output)
    }

    /// Closes the whole connection.
    func close() {
        channel?.close(promise: nil)
    }
}
