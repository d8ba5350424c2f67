/// A Big-O class as the report names it, ordered from cheapest to most expensive.
public enum ComplexityClass: String, CaseIterable, Codable, Comparable, Sendable {
    case constant = "O(1)"
    case logarithmic = "O(log n)"
    case squareRoot = "O(sqrt n)"
    case linear = "O(n)"
    case linearithmic = "O(n log n)"
    case quadratic = "O(n^2)"
    case quadraticLog = "O(n^2 log n)"
    case cubic = "O(n^3)"
    case polynomial = "O(n^k)"
    case exponential = "O(2^n)"
    case factorial = "O(n!)"

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: ComplexityClass, rhs: ComplexityClass) -> Bool {
        lhs.rank < rhs.rank
    }
}
