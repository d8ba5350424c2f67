import CodeSyncAnalyzer
import Testing

/// Textbook cases for the rules added after the first blind Python set (docs/ANALYZER.md,
/// "A blind set"): amortised inner loops, path compression, geometric loops whatever divides,
/// lists filled by the loop that scans them, answer buffers in test-case loops, thread targets,
/// and adjacency buckets. Each rule's switch is checked on its own textbook case.
@Suite struct AmortisedRuleTests {
    private func report(_ source: String, rules: AnalyzerRules = .all) -> ComplexityReport {
        Analyzer.analyze(source: source, language: "python", rules: rules)
    }

    private func classOf(_ source: String, _ function: String, rules: AnalyzerRules = .all) -> ComplexityClass? {
        report(source, rules: rules).functions.first { $0.name == function }?.class
    }

    private func overall(_ source: String, rules: AnalyzerRules = .all) -> ComplexityClass? {
        report(source, rules: rules).overall?.class
    }

    // Two pointers (a sliding window): `left` only moves forward over the whole outer loop.
    static let slidingWindow = """
        def longest(a, s):
            best = cur = left = 0
            for right in range(len(a)):
                cur += a[right]
                while cur > s:
                    cur -= a[left]
                    left += 1
                best = max(best, right - left + 1)
            return best
        """

    @Test func twoPointersAreLinearUnlessTheInnerPointerIsReset() {
        #expect(classOf(Self.slidingWindow, "longest") == .linear)
        #expect(classOf(Self.slidingWindow, "longest", rules: AnalyzerRules.all.subtracting(.amortisedPointers)) == .quadratic)
        let reset = """
            def prefix_fits(a, s):
                best = 0
                for right in range(len(a)):
                    left = cur = 0
                    while left < len(a) and cur <= s:
                        cur += a[left]
                        left += 1
                    best = max(best, left)
                return best
            """
        #expect(classOf(reset, "prefix_fits") == .quadratic)
        // A pointer moved back elsewhere in the outer loop is not monotone.
        let backAndForth = """
            def wobble(a):
                j = 0
                t = 0
                for i in range(len(a)):
                    while j < len(a) and a[j] < a[i]:
                        j += 1
                        t += 1
                    j -= 3
                return t
            """
        #expect(classOf(backAndForth, "wobble") == .quadratic)
    }

    // A monotonic stack (next greater element): every index is pushed once and popped at most once.
    static let nextGreater = """
        def next_greater(h):
            res = [-1] * len(h)
            st = []
            for i in range(len(h)):
                while st and h[st[-1]] < h[i]:
                    res[st.pop()] = i
                st.append(i)
            return res
        """

    @Test func aMonotonicStackIsLinearUnlessItIsRefilledInsideTheLoop() {
        #expect(classOf(Self.nextGreater, "next_greater") == .linear)
        #expect(classOf(Self.nextGreater, "next_greater", rules: AnalyzerRules.all.subtracting(.amortisedPointers)) == .quadratic)
        // Pushed n times per outer pass: the pops are not paid for by one push each.
        let refilled = """
            def count_pops(h):
                st = []
                t = 0
                for i in range(len(h)):
                    for x in h:
                        st.append(x)
                    while st and st[-1] >= h[i]:
                        st.pop()
                        t += 1
                return t
            """
        let notes = report(refilled).functions.first { $0.name == "count_pops" }?.notes ?? []
        #expect(!notes.contains { $0.hasPrefix("amortised loop") }, "\(notes)")
        #expect(classOf(refilled, "count_pops") == .quadratic)
    }

    @Test func findWithPathCompressionIsLogarithmicAndWithoutItLinear() {
        let halving = """
            def find(parent, x):
                while parent[x] != x:
                    parent[x] = parent[parent[x]]
                    x = parent[x]
                return x
            """
        #expect(classOf(halving, "find") == .logarithmic)
        #expect(classOf(halving, "find", rules: AnalyzerRules.all.subtracting(.pathCompression)) == .linear)
        let recursive = """
            def find(x):
                if p[x] != x:
                    p[x] = find(p[x])
                return p[x]
            """
        #expect(classOf(recursive, "find") == .logarithmic)
        let plain = """
            def root(parent, x):
                while parent[x] != x:
                    x = parent[x]
                return x
            """
        #expect(classOf(plain, "root") == .linear, "no compression: a chain can be n long")
    }

    @Test func loopsThatDivideOrMultiplyGeometricallyAreLogarithmic() {
        // The test compares a remainder, yet n is what halves.
        let twos = "def twos(n):\n    c = 0\n    while n % 2 == 0:\n        n //= 2\n        c += 1\n    return c\n"
        #expect(classOf(twos, "twos") == .logarithmic)
        // Digits in base b: the loop ends only if b >= 2.
        let digits = "def digits(n, b):\n    d = []\n    while n > 0:\n        d.append(n % b)\n        n //= b\n    return d\n"
        #expect(classOf(digits, "digits") == .logarithmic)
        let nines = "def nines(n):\n    a = 0\n    while a * 10 + 9 <= n:\n        a = a * 10 + 9\n    return a\n"
        #expect(classOf(nines, "nines") == .logarithmic)
        #expect(classOf(nines, "nines", rules: AnalyzerRules.all.subtracting(.halvingLoops)) != .logarithmic)
        // Adding a constant is still linear.
        let steps = "def steps(n):\n    a = 0\n    while a + 9 <= n:\n        a = a + 9\n    return a\n"
        #expect(classOf(steps, "steps") == .linear)
    }

    @Test func aListScannedBeforeTheLoopAppendsToItIsTheLoopsLength() {
        let dedupe = """
            def dedupe(a):
                res = []
                for x in a:
                    if x not in res:
                        res.append(x)
                return res
            """
        #expect(classOf(dedupe, "dedupe") == .quadratic)
        // Emptied whenever it reaches three: its size is not the iteration count.
        let bounded = """
            def groups(s):
                seen = []
                c = 0
                for ch in s:
                    if ch in seen:
                        c += 1
                        seen.clear()
                    else:
                        seen.append(ch)
                return c
            """
        #expect(classOf(bounded, "groups") == .linear)
    }

    @Test func anAnswerBufferDoesNotTurnTestCasesIntoOneInput() {
        let perCase = """
            import sys
            input = sys.stdin.readline
            t = int(input())
            ans = []
            for _ in range(t):
                n = int(input())
                a = list(map(int, input().split()))
                ok = all(a[i] <= a[i + 1] for i in range(n - 1))
                ans.append("YES" if ok else "NO")
            print("\\n".join(ans))
            """
        #expect(overall(perCase) == .linear)
        let pairs = """
            t = int(input())
            out = []
            for _ in range(t):
                a, b = map(int, input().split())
                out.append(str(a + b))
            print("\\n".join(out))
            """
        #expect(overall(pairs) == .constant)
        // Reading n values into a list that is then worked on is one input of n items.
        let oneInput = """
            n = int(input())
            a = []
            for _ in range(n):
                a.append(int(input()))
            a.sort()
            print(a[0])
            """
        #expect(overall(oneInput) == .linearithmic)
    }

    @Test func aFunctionRunAsAThreadTargetCountsAsCalled() {
        let threaded = """
            import sys, threading
            def main():
                n = int(sys.stdin.readline())
                a = sorted(map(int, sys.stdin.readline().split()))
                print(a[n // 2])
            sys.setrecursionlimit(1 << 20)
            threading.stack_size(1 << 26)
            t = threading.Thread(target=main)
            t.start()
            t.join()
            """
        #expect(overall(threaded) == .linearithmic)
    }

    @Test func adjacencyBucketsAreWalkedOncePerPassButAGridIsNot() {
        let subtree = """
            n = int(input())
            p = list(map(int, input().split()))
            children = [[] for _ in range(n + 1)]
            for i, par in enumerate(p, start=2):
                children[par].append(i)
            size = [1] * (n + 1)
            for u in range(n, 0, -1):
                for v in children[u]:
                    size[u] += size[v]
            print(*size[1:])
            """
        #expect(overall(subtree) == .linear)
        #expect(overall(subtree, rules: AnalyzerRules.all.subtracting(.amortisedAdjacency)) == .quadratic)
        let grid = """
            n = int(input())
            g = [list(map(int, input().split())) for _ in range(n)]
            s = 0
            for i in range(n):
                for x in g[i]:
                    s += x
            print(s)
            """
        #expect(overall(grid) == .quadratic, "rows read from input are not adjacency buckets")
    }
}
