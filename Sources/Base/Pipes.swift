#if canImport(Glibc)
import Glibc

// glibc declares pipe2 only under _GNU_SOURCE, which Swift's Glibc module does not define; the
// symbol itself is in every glibc since 2.9 and has a plain C signature.
@_silgen_name("pipe2")
private func systemPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

/// A pipe whose two ends are close-on-exec (plus `flags`, e.g. `O_NONBLOCK`) from the moment they
/// exist: no child another thread spawns meanwhile can inherit them, as with `pipe` then `fcntl`.
/// Returns [read end, write end], or nil with `errno` set.
public func closeOnExecPipe(flags: Int32 = 0) -> [Int32]? {
    var fds: [Int32] = [-1, -1]
    let result = fds.withUnsafeMutableBufferPointer { systemPipe2($0.baseAddress!, O_CLOEXEC | flags) }
    return result == 0 ? fds : nil
}
#endif
