import CodeSyncBase
import Foundation
import NIOCore
import NIOPosix

/// Receives every byte of a connection and its end, on the channel's event loop.
final class ByteSinkHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let onBytes: @Sendable ([UInt8]) -> Void
    private let onEnd: @Sendable ((any Error)?) -> Void
    private let ended = Locked(false)

    init(onBytes: @escaping @Sendable ([UInt8]) -> Void, onEnd: @escaping @Sendable ((any Error)?) -> Void) {
        self.onBytes = onBytes
        self.onEnd = onEnd
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes), !bytes.isEmpty { onBytes(bytes) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(error)
        context.close(promise: nil)
    }

    private func finish(_ error: (any Error)?) {
        let first = ended.withLock { done in
            defer { done = true }
            return !done
        }
        if first { onEnd(error) }
    }
}

/// Opens connections to the engine's unix socket and maps connect failures to `RunnerError`.
struct SocketConnector: Sendable {
    let socketPath: String

    /// Connects and installs a handler that forwards bytes; the channel is returned once connected.
    func connect(
        onBytes: @escaping @Sendable ([UInt8]) -> Void, onEnd: @escaping @Sendable ((any Error)?) -> Void
    ) async throws -> any Channel {
        let handler = ByteSinkHandler(onBytes: onBytes, onEnd: onEnd)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
        do {
            return try await bootstrap.connect(unixDomainSocketPath: socketPath).get()
        } catch {
            throw mapConnectError(error)
        }
    }

    func mapConnectError(_ error: any Error) -> RunnerError {
        if let io = error as? IOError {
            switch io.errnoCode {
            case EACCES, EPERM: return .permissionDenied(socket: socketPath)
            default: return .engineUnreachable(socket: socketPath)
            }
        }
        return .engineUnreachable(socket: socketPath)
    }
}
