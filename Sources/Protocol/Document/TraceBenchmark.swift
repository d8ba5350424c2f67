/// Times a trace through the replicated document; the `codesync bench trace` measurements, without I/O.
public enum TraceBenchmark {
    /// Medians over the runs, in milliseconds, and the checks.
    public struct Result: Sendable {
        /// Edits (patches) in the trace.
        public var ops: Int
        /// Sequential: every patch as a local edit of one replica. Concurrent: the per-agent replay
        /// (local edits plus delivering each transaction's causal closure to its agent).
        public var localMs: Double
        /// Sequential traces: `localMs` plus building each transaction's update, as a peer sending
        /// its edits does (the update is dropped). Nil for concurrent traces, whose replay builds them.
        public var localWithUpdatesMs: Double?
        /// A fresh replica decodes the full encoded state and yields the text.
        public var remoteMs: Double
        /// Concurrent traces: a fresh replica applies every transaction's update in trace order.
        public var mergeMs: Double?
        /// Size of the full-state encoding of the final document.
        public var encodedBytes: Int
        /// Every final text (local, decoded, merged) equals the trace's end content.
        public var ok: Bool
        public var runs: Int
    }

    /// Runs the trace `runs` times and reports medians.
    public static func run(_ trace: EditingTrace, runs: Int) throws -> Result {
        var local: [Double] = [], localWithUpdates: [Double] = [], remote: [Double] = [], merge: [Double] = []
        var ok = true
        var encodedBytes = 0
        let clock = ContinuousClock()
        for _ in 0..<max(runs, 1) {
            var state: [UInt8] = []
            if trace.kind == .sequential {
                var replica: Replica?
                local.append(milliseconds(clock.measure { replica = TraceReplay.replayLocal(trace) }))
                if let replica {
                    ok = ok && replica.text == trace.endContent
                    state = replica.encodeState()
                }
                replica = nil
                localWithUpdates.append(milliseconds(clock.measure { replica = TraceReplay.replayLocal(trace, buildingUpdates: true) }))
                ok = ok && replica?.text == trace.endContent
                replica = nil
            } else {
                var result: TraceReplay.ConcurrentResult?
                var failure: Error?
                local.append(milliseconds(clock.measure {
                    do { result = try TraceReplay.replayConcurrent(trace) } catch { failure = error }
                }))
                if let failure { throw failure }
                guard let result else { continue }
                ok = ok && result.replicas.allSatisfy { $0.text == trace.endContent }
                var merged: Replica?
                merge.append(milliseconds(clock.measure {
                    do { merged = try TraceReplay.merge(result.updates) } catch { failure = error }
                }))
                if let failure { throw failure }
                ok = ok && merged?.text == trace.endContent
                state = result.replicas[0].encodeState()
            }
            encodedBytes = state.count
            var loadedText = ""
            var failure: Error?
            remote.append(milliseconds(clock.measure {
                do { loadedText = try Replica(agent: "joiner", state: state).text } catch { failure = error }
            }))
            if let failure { throw failure }
            ok = ok && loadedText == trace.endContent
        }
        return Result(
            ops: trace.patchCount, localMs: median(local),
            localWithUpdatesMs: localWithUpdates.isEmpty ? nil : median(localWithUpdates), remoteMs: median(remote),
            mergeMs: merge.isEmpty ? nil : median(merge), encodedBytes: encodedBytes, ok: ok, runs: max(runs, 1))
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) * 1000 + Double(parts.attoseconds) / 1e15
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
