/// Identifies one peer's edits within a session (e.g. "alice-3f2a"); short strings keep updates small.
public typealias AgentID = String

/// Per agent, how many operations of that agent are known (operations are numbered 0, 1, 2, ...).
public struct VersionVector: Codable, Hashable, Sendable {
    /// Known operation count per agent; agents with zero known operations are omitted.
    public private(set) var counts: [AgentID: Int]

    /// The empty version: nothing known.
    public init() { counts = [:] }

    /// A version from explicit counts; non-positive counts are dropped.
    public init(_ counts: [AgentID: Int]) {
        self.counts = counts.filter { $0.value > 0 }
    }

    /// How many operations of `agent` are known.
    public subscript(agent: AgentID) -> Int {
        get { counts[agent] ?? 0 }
        set { counts[agent] = newValue > 0 ? newValue : nil }
    }

    /// True when every operation known to `other` is known here too.
    public func includes(_ other: VersionVector) -> Bool {
        other.counts.allSatisfy { self[$0.key] >= $0.value }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode([String: Int].self)
        if let bad = raw.first(where: { $0.value < 0 }) {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "negative operation count \(bad.value) for agent \(bad.key)")
        }
        counts = raw.filter { $0.value > 0 }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(counts)
    }
}

/// A visible change to the text, for views: remove `deleted` scalars at `offset`, then insert `inserted` there.
public struct TextChange: Equatable, Sendable {
    /// Unicode scalar offset in the text before this change.
    public var offset: Int
    /// Scalars removed at `offset`.
    public var deleted: Int
    /// Text inserted at `offset` after the removal.
    public var inserted: String

    /// A change at `offset`.
    public init(offset: Int, deleted: Int, inserted: String) {
        self.offset = offset
        self.deleted = deleted
        self.inserted = inserted
    }
}

/// Which side of a position an anchor sticks to when text is inserted exactly there.
public enum AnchorBias: Sendable {
    /// Sticks to the character before the position (text inserted at the position goes after the anchor).
    case left
    /// Sticks to the character after the position (text inserted at the position goes before the anchor).
    case right
}

/// A position that sticks to a character across local and remote edits (cursors, selections).
public struct Anchor: Codable, Hashable, Sendable {
    /// The character's creator; nil means the document start (left bias) or end (right bias).
    @_spi(Wire) public var agent: AgentID?
    /// The character's operation number within its creator's operations.
    @_spi(Wire) public var seq: Int
    /// True for left bias: the anchor sits just after the character.
    @_spi(Wire) public var after: Bool

    /// An anchor on a character id (wire codecs only; others get anchors from a replica).
    @_spi(Wire) public init(agent: AgentID?, seq: Int, after: Bool) {
        self.agent = agent
        self.seq = seq
        self.after = after
    }

    /// The bias this anchor was created with.
    public var bias: AnchorBias { after ? .left : .right }

    private enum CodingKeys: String, CodingKey { case agent = "a", seq = "s", after = "l" }
}

/// Why an update or a state encoding could not be used.
public struct DocumentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of refusal it is.
    public enum Kind: Sendable {
        /// The update or state is not well formed (its sender is buggy or hostile).
        case malformed
        /// Well formed, but it would cross one of the replica's `DocumentLimits`.
        case limit
    }

    /// One line: what is wrong and, where possible, what to do.
    public var message: String
    /// Malformed input, or a limit.
    public var kind: Kind

    init(_ message: String, kind: Kind = .malformed) {
        self.message = message
        self.kind = kind
    }

    public var description: String { message }
}

/// Bounds on what remote updates may make of a replica (`Replica.limits`). An update that would cross
/// one is refused whole with a `DocumentError` of kind `.limit`; local edits are not limited.
public struct DocumentLimits: Equatable, Sendable {
    /// Visible text, in Unicode scalars (16 Mi by default: far above any real source file). Inserts still
    /// waiting for their dependencies count too; deletes in the same update are not credited.
    public var maxScalars = 1 << 24
    /// Operations known or waiting: the whole history, deletions included. At most (and by default) what
    /// a state encoding can hold (2^26), so every document that can be reached can be saved and reloaded.
    public var maxOperations = StateCodec.maxOperations
    /// Runs held back until the operations they depend on arrive (peers of a server never need any: a
    /// server holds none, see `SessionLimits.document`; this bounds replicas fed in any order).
    public var maxWaitingRuns = 1 << 16
    /// Approximate memory of the held-back runs, in bytes.
    public var maxWaitingBytes = 16 << 20
    /// Pieces the integration scans may visit while placing one update's inserts (2^21: ~0.1 s in release).
    /// An honest insert scans only the inserts concurrent with it at its place; a hostile one can name
    /// origins at both ends of the document and scan all of it, once per run (docs/CRDT.md, "Integration cost").
    public var maxIntegrationSteps = 1 << 21

    /// The defaults.
    public init() {}
}
