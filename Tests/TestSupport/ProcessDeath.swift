import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Waits until process `pid` has died (a zombie or gone), reading /proc, at most `timeout` seconds.
///
/// Foundation's `Process.waitUntilExit()` spins a run loop until Foundation's own reaper, which
/// needs a Dispatch thread, notices the exit; called from async tests on a 2-core machine it can
/// hold every pool thread and wait forever (seen: two tests' clean-ups, 10 minutes). The kernel
/// has released a zombie's files, sockets and locks, which is all a test needs before going on.
/// Returns whether the process died in time.
@discardableResult
public func waitForDeath(of pid: pid_t, timeout: Double = 10) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return true }
        // The state letter follows the command name, which may itself hold spaces and parentheses.
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        if state == "Z" || state == "X" { return true }
        usleep(2_000)
    }
    return false
}
