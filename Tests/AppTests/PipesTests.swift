import CodeSyncBase
import CodeSyncTestSupport
import Foundation
import Testing

/// `closeOnExecPipe`: both ends are close-on-exec from the start, with the extra flags asked for.
@Suite(.ownThreads) struct PipesTests {
    @Test func bothEndsAreCloseOnExecAndCarryTheFlags() throws {
        let plain = try #require(closeOnExecPipe())
        let nonBlocking = try #require(closeOnExecPipe(flags: O_NONBLOCK))
        defer { for fd in plain + nonBlocking { close(fd) } }
        for fd in plain + nonBlocking { #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0) }
        for fd in plain { #expect(fcntl(fd, F_GETFL) & O_NONBLOCK == 0) }
        for fd in nonBlocking { #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0) }
        // And it is a working pipe, read end first.
        var byte: UInt8 = 42
        #expect(write(plain[1], &byte, 1) == 1)
        byte = 0
        #expect(read(plain[0], &byte, 1) == 1 && byte == 42)
    }
}
