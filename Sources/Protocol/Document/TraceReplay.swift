/// Replays editing traces through replicas: the shared path of the trace tests and `codesync bench trace`.
public enum TraceReplay {
    /// Applies every patch of a sequential trace as local edits of one replica (agent "trace"). With
    /// `buildingUpdates`, each transaction's update is also built, as a peer sending it would (and dropped).
    public static func replayLocal(_ trace: EditingTrace, agent: AgentID = "trace", buildingUpdates: Bool = false) -> Replica {
        let replica = Replica(agent: agent)
        // The trace says how many operations it makes: one allocation instead of doublings (see reserveCapacity).
        replica.reserveCapacity(localOperations: trace.startContent.unicodeScalars.count + trace.insertedScalarCount + trace.deletedCount)
        if !trace.startContent.isEmpty { replica.insert(trace.startContent, at: 0) }
        var reader = EditingTrace.PatchReader()
        var sentOps = 0
        for _ in 0..<trace.transactionCount {
            let mark = replica.historyMark
            for _ in 0..<reader.nextTransaction(in: trace) {
                let (patch, text) = reader.next(in: trace)
                replica.edit(at: patch.position, deleting: patch.deleted, inserting: text)
            }
            if buildingUpdates { sentOps &+= replica.updates(after: mark).ops.count }
        }
        // Keeps the optimiser from dropping the updates as unused.
        if sentOps < 0 { print(sentOps) }
        return replica
    }

    /// The result of replaying a concurrent trace: one replica per agent and each transaction's update.
    public struct ConcurrentResult {
        /// One replica per trace agent, after every transaction reached every replica.
        public var replicas: [Replica]
        /// The update each transaction produced, in trace order (a causal order).
        public var updates: [Update]
    }

    /// Replays a concurrent trace with one replica per agent: before each transaction its agent's replica
    /// receives every transaction in the causal closure of the parents that it has not seen, then applies
    /// the patches as local edits. Finally every replica receives everything.
    public static func replayConcurrent(_ trace: EditingTrace) throws -> ConcurrentResult {
        let count = trace.transactionCount
        let replicas = (0..<trace.agentCount).map { Replica(agent: "agent-\($0)") }
        var seen = [[Bool]](repeating: [Bool](repeating: false, count: count), count: trace.agentCount)
        var updates: [Update] = []
        updates.reserveCapacity(count)
        var stack: [Int32] = []
        var missing: [Int] = []

        func deliver(closureOf roots: some Sequence<Int32>, to agent: Int) throws {
            missing.removeAll(keepingCapacity: true)
            stack.append(contentsOf: roots)
            while let t = stack.popLast() {
                let index = Int(t)
                if seen[agent][index] { continue }
                seen[agent][index] = true
                missing.append(index)
                stack.append(contentsOf: trace.parents[trace.parentRange(index)])
            }
            missing.sort()
            for index in missing { try replicas[agent].apply(updates[index]) }
        }

        var reader = EditingTrace.PatchReader()
        for t in 0..<count {
            let agent = Int(trace.agents[t])
            try deliver(closureOf: trace.parents[trace.parentRange(t)], to: agent)
            let replica = replicas[agent]
            let mark = replica.historyMark
            for _ in 0..<reader.nextTransaction(in: trace) {
                let (patch, text) = reader.next(in: trace)
                replica.edit(at: patch.position, deleting: patch.deleted, inserting: text)
            }
            seen[agent][t] = true
            updates.append(replica.updates(after: mark))
        }
        let all = (0..<count).map { Int32($0) }
        for agent in 0..<trace.agentCount { try deliver(closureOf: all, to: agent) }
        return ConcurrentResult(replicas: replicas, updates: updates)
    }

    /// Applies every update to a fresh replica, in order: all agents' operations merged.
    public static func merge(_ updates: [Update], agent: AgentID = "merge") throws -> Replica {
        let replica = Replica(agent: agent)
        // A trace is trusted and may come in any order (tests merge it reversed): nothing caps the waiting.
        replica.limits.maxWaitingRuns = .max
        replica.limits.maxWaitingBytes = .max
        for update in updates { try replica.apply(update) }
        return replica
    }
}
