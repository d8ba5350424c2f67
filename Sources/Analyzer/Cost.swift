/// A growth rate n^(halfPowers/2) · log^logs n, or exponential/factorial, with the line that causes it.
///
/// Half powers let `sqrt n` be exact; ordering is by growth, so `max` picks the dominating term.
struct Cost: Comparable, Sendable {
    /// 0 polynomial, 1 exponential, 2 factorial.
    var tier: Int = 0
    var halfPowers: Int = 0
    var logs: Int = 0

    static let one = Cost()
    static let log = Cost(logs: 1)
    static let sqrt = Cost(halfPowers: 1)
    static let n = Cost(halfPowers: 2)
    static let nLogN = Cost(halfPowers: 2, logs: 1)
    static let exponential = Cost(tier: 1)
    static let factorial = Cost(tier: 2)

    var isConstant: Bool { tier == 0 && halfPowers == 0 && logs == 0 }

    static func < (a: Cost, b: Cost) -> Bool {
        if a.tier != b.tier { return a.tier < b.tier }
        // Within exponential tiers the polynomial factor does not change the reported class.
        if a.tier > 0 { return false }
        if a.halfPowers != b.halfPowers { return a.halfPowers < b.halfPowers }
        return a.logs < b.logs
    }

    static func == (a: Cost, b: Cost) -> Bool { !(a < b) && !(b < a) }

    /// The cost of doing `other` once for each unit of `self`.
    func times(_ other: Cost) -> Cost {
        if tier > 0 || other.tier > 0 { return Cost(tier: max(tier, other.tier)) }
        return Cost(tier: 0, halfPowers: halfPowers + other.halfPowers, logs: logs + other.logs)
    }

    /// Logarithm of a magnitude: log of n^k is log n; log of a constant is constant; log of 2^n is n.
    var logarithm: Cost {
        if tier > 0 { return .n }
        if halfPowers == 0 && logs == 0 { return .one }
        return .log
    }

    /// Square root of a magnitude.
    var squareRoot: Cost {
        if tier > 0 { return self }
        if halfPowers == 0 { return self }
        if halfPowers % 2 == 0 { return Cost(halfPowers: halfPowers / 2, logs: logs) }
        return Cost(halfPowers: max(1, halfPowers / 2), logs: logs)
    }

    /// The report class nearest to this growth rate.
    var complexityClass: ComplexityClass {
        switch tier {
        case 2: return .factorial
        case 1: return .exponential
        default: break
        }
        switch halfPowers {
        case 0: return logs == 0 ? .constant : .logarithmic
        case 1: return .squareRoot
        case 2: return logs == 0 ? .linear : .linearithmic
        case 3: return .linearithmic
        case 4: return logs == 0 ? .quadratic : .quadraticLog
        case 5: return .quadraticLog
        case 6: return .cubic
        default: return .polynomial
        }
    }
}

/// A cost together with the source line that dominates it.
struct Bound: Sendable {
    var cost: Cost
    var line: Int

    static func constant(_ line: Int) -> Bound { Bound(cost: .one, line: line) }

    /// The larger of two bounds (the earlier line wins ties, so the first dominating line is shown).
    func maxed(_ other: Bound) -> Bound {
        other.cost > cost ? other : self
    }
}
