/// Operations that travel between replicas: run-length insert and delete operations, applied with `Replica.apply`.
///
/// JSON form (compact, one array per run): `{"a":[agents...],"o":[op...]}` where an insert run is
/// `[0, agent, seq, leftAgent, leftSeq, rightAgent, rightSeq, "text"]` (agent indexes into `a`, -1 for
/// none: document start or end) and a delete run is `[1, agent, seq, targetAgent, targetSeq, count, ...]`
/// with one target triple per span (a negative count walks the target backwards, as backspace does).
public struct Update: Codable, Equatable, Sendable {
    /// A character identity: the creator and the creator's operation number.
    @_spi(Wire) public struct OpRef: Equatable, Sendable {
        public var agent: AgentID
        public var seq: Int
        public init(agent: AgentID, seq: Int) { self.agent = agent; self.seq = seq }
    }

    /// Characters typed as one run: character k has id (agent, seq + k); the first sits after `left`,
    /// all sit before `right` (as seen by their author).
    @_spi(Wire) public struct InsertOp: Equatable, Sendable {
        public var agent: AgentID
        public var seq: Int
        public var left: OpRef?
        public var right: OpRef?
        public var text: String
        public init(agent: AgentID, seq: Int, left: OpRef?, right: OpRef?, text: String) {
            self.agent = agent; self.seq = seq; self.left = left; self.right = right; self.text = text
        }
    }

    /// `count` consecutive characters of one creator, from `seq` forwards or (backward) from `seq` down.
    @_spi(Wire) public struct DeleteSpan: Equatable, Sendable {
        public var agent: AgentID
        public var seq: Int
        public var count: Int
        public var backward: Bool
        public init(agent: AgentID, seq: Int, count: Int, backward: Bool) {
            self.agent = agent; self.seq = seq; self.count = count; self.backward = backward
        }
    }

    /// Deletions numbered seq, seq + 1, ... by `agent`, one per target character in span order.
    @_spi(Wire) public struct DeleteOp: Equatable, Sendable {
        public var agent: AgentID
        public var seq: Int
        public var spans: [DeleteSpan]
        public init(agent: AgentID, seq: Int, spans: [DeleteSpan]) { self.agent = agent; self.seq = seq; self.spans = spans }

        var count: Int { spans.reduce(0) { $0 + $1.count } }
    }

    /// One run: inserted or deleted characters.
    @_spi(Wire) public enum Op: Equatable, Sendable {
        case insert(InsertOp)
        case delete(DeleteOp)
    }

    /// The runs, in order (wire codecs read and build them; everyone else passes updates whole).
    @_spi(Wire) public var ops: [Op]

    /// An update of `ops`.
    @_spi(Wire) public init(ops: [Op]) { self.ops = ops }

    /// The empty update.
    public init() { ops = [] }

    /// True when the update carries no operation.
    public var isEmpty: Bool { ops.isEmpty }

    /// The number of operations (characters inserted or deleted) the update carries.
    public var operationCount: Int {
        ops.reduce(0) { total, op in
            switch op {
            case .insert(let insert): total + insert.text.unicodeScalars.count
            case .delete(let delete): total + delete.count
            }
        }
    }

    /// Concatenates two updates (the result applies `self`'s operations first).
    public func merged(with other: Update) -> Update { Update(ops: ops + other.ops) }

    private enum CodingKeys: String, CodingKey { case agents = "a", ops = "o" }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let agents = try container.decode([String].self, forKey: .agents)
        var list = try container.nestedUnkeyedContainer(forKey: .ops)
        var ops: [Op] = []
        func agent(_ index: Int, in op: inout UnkeyedDecodingContainer) throws -> AgentID {
            guard index >= 0, index < agents.count else {
                throw DecodingError.dataCorruptedError(in: op, debugDescription: "agent index \(index) out of range")
            }
            return agents[index]
        }
        func ref(_ agentIndex: Int, _ seq: Int, in op: inout UnkeyedDecodingContainer) throws -> OpRef? {
            if agentIndex == -1 { return nil }
            guard seq >= 0, seq < Int(Int32.max) else {
                throw DecodingError.dataCorruptedError(in: op, debugDescription: "operation number \(seq) out of range")
            }
            return OpRef(agent: try agent(agentIndex, in: &op), seq: seq)
        }
        while !list.isAtEnd {
            var op = try list.nestedUnkeyedContainer()
            let kind = try op.decode(Int.self)
            let agentName = try agent(try op.decode(Int.self), in: &op)
            let seq = try op.decode(Int.self)
            guard seq >= 0, seq < Int(Int32.max) else {
                throw DecodingError.dataCorruptedError(in: op, debugDescription: "operation number \(seq) out of range")
            }
            switch kind {
            case 0:
                let left = try ref(try op.decode(Int.self), try op.decode(Int.self), in: &op)
                let right = try ref(try op.decode(Int.self), try op.decode(Int.self), in: &op)
                let text = try op.decode(String.self)
                let length = text.unicodeScalars.count
                guard length > 0, seq + length < Int(Int32.max) else {
                    throw DecodingError.dataCorruptedError(in: op, debugDescription: "insert run with bad length \(length)")
                }
                ops.append(.insert(InsertOp(agent: agentName, seq: seq, left: left, right: right, text: text)))
            case 1:
                var spans: [DeleteSpan] = []
                var total = 0
                while !op.isAtEnd {
                    let target = try agent(try op.decode(Int.self), in: &op)
                    let start = try op.decode(Int.self)
                    let signed = try op.decode(Int.self)
                    // Bounds first: `abs(Int.min)` and `start - count` on hostile numbers would trap.
                    guard signed != 0, start >= 0, start < Int(Int32.max), signed > -Int(Int32.max), signed < Int(Int32.max),
                        signed > 0 || start - (-signed) + 1 >= 0, signed < 0 || start + signed - 1 < Int(Int32.max)
                    else {
                        throw DecodingError.dataCorruptedError(in: op, debugDescription: "delete span with bad range")
                    }
                    let count = abs(signed)
                    total += count
                    spans.append(DeleteSpan(agent: target, seq: start, count: count, backward: signed < 0))
                }
                guard !spans.isEmpty, seq + total < Int(Int32.max) else {
                    throw DecodingError.dataCorruptedError(in: op, debugDescription: "delete run without targets")
                }
                ops.append(.delete(DeleteOp(agent: agentName, seq: seq, spans: spans)))
            default:
                throw DecodingError.dataCorruptedError(in: op, debugDescription: "unknown operation kind \(kind)")
            }
        }
        self.ops = ops
    }

    public func encode(to encoder: Encoder) throws {
        var agents: [AgentID] = []
        var index: [AgentID: Int] = [:]
        func intern(_ name: AgentID) -> Int {
            if let known = index[name] { return known }
            index[name] = agents.count
            agents.append(name)
            return agents.count - 1
        }
        var rows: [[EncodedField]] = []
        for op in ops {
            switch op {
            case .insert(let insert):
                rows.append([
                    .int(0), .int(intern(insert.agent)), .int(insert.seq),
                    .int(insert.left.map { intern($0.agent) } ?? -1), .int(insert.left?.seq ?? 0),
                    .int(insert.right.map { intern($0.agent) } ?? -1), .int(insert.right?.seq ?? 0),
                    .text(insert.text),
                ])
            case .delete(let delete):
                var row: [EncodedField] = [.int(1), .int(intern(delete.agent)), .int(delete.seq)]
                for span in delete.spans {
                    row += [.int(intern(span.agent)), .int(span.seq), .int(span.backward ? -span.count : span.count)]
                }
                rows.append(row)
            }
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(agents, forKey: .agents)
        try container.encode(rows, forKey: .ops)
    }

    private enum EncodedField: Encodable {
        case int(Int)
        case text(String)

        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .int(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            }
        }
    }
}
