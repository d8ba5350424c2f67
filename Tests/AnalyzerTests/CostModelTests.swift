import CodeSyncAnalyzer
import Testing
import CodeSyncTestSupport

/// Each case: a snippet with 1️⃣ on the line that should dominate, and the expected class.
@Suite(.ownThreads) struct CostModelTests {
    private func check(
        _ marked: String, _ expected: ComplexityClass, function: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let m = MarkedSource(marked)
        let report = Analyzer.analyze(source: m.source)
        #expect(report.errors.isEmpty, "unexpected syntax errors: \(report.errors)", sourceLocation: sourceLocation)
        let verdict = function.flatMap { name in report.functions.first { $0.name == name } } ?? report.overall
        guard let verdict else {
            Issue.record("no report", sourceLocation: sourceLocation)
            return
        }
        #expect(verdict.class == expected, "notes: \(verdict.notes)", sourceLocation: sourceLocation)
        if let line = m.markedLine {
            #expect(verdict.dominatingLine == line, "dominating line", sourceLocation: sourceLocation)
        }
    }

    @Test func indexingIsConstant() {
        check("""
            def first(items):
                return items[0] 1️⃣
            """, .constant, function: "first")
    }

    @Test func loopOverLiteralBoundIsConstant() {
        check("""
            s = input() 1️⃣
            counts = [0] * 26
            for c in range(26):
                counts[c] += 1
            print(counts)
            """, .constant)
    }

    @Test func inputSizedLoopIsLinear() {
        check("""
            n = int(input())
            total = 0
            for i in range(n): 1️⃣
                total += i
            print(total)
            """, .linear)
    }

    @Test func dependentNestedLoopsAreQuadratic() {
        check("""
            def pairs(values):
                count = 0
                for i in range(len(values)):
                    for j in range(i + 1, len(values)): 1️⃣
                        count += values[i] < values[j]
                return count
            """, .quadratic, function: "pairs")
    }

    @Test func tripleLoopIsCubic() {
        check("""
            n = int(input())
            for i in range(n):
                for j in range(n):
                    for k in range(n): 1️⃣
                        pass
            """, .cubic)
    }

    @Test func halvingLoopIsLogarithmic() {
        check("""
            def steps(n):
                count = 0
                while n > 0: 1️⃣
                    n //= 2
                    count += 1
                return count
            """, .logarithmic, function: "steps")
    }

    @Test func binarySearchIsLogarithmic() {
        check("""
            def find(a, x):
                lo, hi = 0, len(a) - 1
                while lo <= hi: 1️⃣
                    mid = (lo + hi) // 2
                    if a[mid] < x:
                        lo = mid + 1
                    else:
                        hi = mid - 1
                return lo
            """, .logarithmic, function: "find")
    }

    @Test func twoPointersAreLinear() {
        check("""
            def is_palindrome(s):
                i, j = 0, len(s) - 1
                while i < j: 1️⃣
                    if s[i] != s[j]:
                        return False
                    i += 1
                    j -= 1
                return True
            """, .linear, function: "is_palindrome")
    }

    @Test func squareRootBound() {
        check("""
            def is_prime(n):
                i = 2
                while i * i <= n: 1️⃣
                    if n % i == 0:
                        return False
                    i += 1
                return True
            """, .squareRoot, function: "is_prime")
    }

    @Test func sortDominatesScan() {
        check("""
            n = int(input())
            a = list(map(int, input().split()))
            a.sort() 1️⃣
            best = 0
            for i in range(1, n):
                best = max(best, a[i] - a[i - 1])
            print(best)
            """, .linearithmic)
    }

    @Test func sortedInsideLoop() {
        check("""
            def ranks(values):
                out = []
                for v in values:
                    ordered = sorted(values) 1️⃣
                    out.append(ordered.index(v))
                return out
            """, .quadraticLog, function: "ranks")
    }

    @Test func membershipInListInsideLoopIsQuadratic() {
        check("""
            def common(a, b):
                out = []
                for x in a:
                    if x in b: 1️⃣
                        out.append(x)
                return out
            """, .quadratic, function: "common")
    }

    @Test func membershipInSetInsideLoopIsLinear() {
        check("""
            def common(a, b):
                seen = set(b) 1️⃣
                out = []
                for x in a:
                    if x in seen:
                        out.append(x)
                return out
            """, .linear, function: "common")
    }

    @Test func insertAtFrontInsideLoopIsQuadratic() {
        check("""
            def reverse(values):
                out = []
                for v in values:
                    out.insert(0, v) 1️⃣
                return out
            """, .quadratic, function: "reverse")
    }

    @Test func heapOperationsInLoopAreLinearithmic() {
        check("""
            import heapq
            def k_smallest(values):
                heap = []
                for v in values:
                    heapq.heappush(heap, v) 1️⃣
                return heap
            """, .linearithmic, function: "k_smallest")
    }

    @Test func callInsideLoopMultiplies() {
        check("""
            def total(a):
                s = 0
                for x in a:
                    s += x
                return s

            def all_totals(a):
                out = []
                for i in range(len(a)):
                    out.append(total(a)) 1️⃣
                return out
            """, .quadratic, function: "all_totals")
    }

    @Test func twoRecursiveCallsOnNMinusOneAreExponential() {
        check("""
            def fib(n):
                if n < 2:
                    return n
                return fib(n - 1) + fib(n - 2) 1️⃣
            """, .exponential, function: "fib")
    }

    @Test func memoisedRecursionCountsStates() {
        check("""
            from functools import lru_cache
            @lru_cache(maxsize=None)
            def fib(n):
                if n < 2:
                    return n
                return fib(n - 1) + fib(n - 2) 1️⃣
            """, .linear, function: "fib")
    }

    @Test func mergeSortByMasterTheorem() {
        check("""
            def merge_sort(a):
                if len(a) <= 1:
                    return a
                mid = len(a) // 2
                left = merge_sort(a[:mid]) 1️⃣
                right = merge_sort(a[mid:])
                out = []
                i = j = 0
                while i < len(left) and j < len(right):
                    if left[i] <= right[j]:
                        out.append(left[i]); i += 1
                    else:
                        out.append(right[j]); j += 1
                return out + left[i:] + right[j:]
            """, .linearithmic, function: "merge_sort")
    }

    @Test func recursiveBinarySearchIsLogarithmic() {
        check("""
            def search(a, x, lo, hi):
                if lo > hi:
                    return -1
                mid = (lo + hi) // 2
                if a[mid] == x:
                    return mid
                if a[mid] < x:
                    return search(a, x, mid + 1, hi) 1️⃣
                return search(a, x, lo, mid - 1)
            """, .logarithmic, function: "search")
    }

    @Test func bitmaskLoopIsExponential() {
        check("""
            n = int(input())
            a = list(map(int, input().split()))
            best = 0
            for mask in range(1 << n):
                s = 0
                for i in range(n): 1️⃣
                    if mask >> i & 1:
                        s += a[i]
                best = max(best, s)
            print(best)
            """, .exponential)
    }

    @Test func permutationsAreFactorial() {
        check("""
            from itertools import permutations
            def best_order(items):
                best = None
                for p in permutations(items): 1️⃣
                    best = p
                return best
            """, .factorial, function: "best_order")
    }

    @Test func testCaseLoopCountsOnce() {
        check("""
            t = int(input())
            for _ in range(t):
                n = int(input())
                a = list(map(int, input().split()))
                a.sort() 1️⃣
                print(a[0])
            """, .linearithmic)
    }

    @Test func testCaseCountIsNotAFactor() {
        check("""
            t = int(input()) 1️⃣
            for _ in range(t):
                n = int(input())
                print(n * (n + 1) // 2)
            """, .constant)
    }

    @Test func readingLoopIsLinear() {
        check("""
            n = int(input())
            points = []
            for i in range(n): 1️⃣
                x, y = map(int, input().split())
                points.append((x, y))
            print(len(points))
            """, .linear)
    }

    @Test func breadthFirstSearchIsLinear() {
        check("""
            from collections import deque
            def bfs(adj, start):
                seen = {start}
                q = deque([start])
                while q: 1️⃣
                    u = q.popleft()
                    for v in adj[u]:
                        if v not in seen:
                            seen.add(v)
                            q.append(v)
                return seen
            """, .linear, function: "bfs")
    }

    @Test func loopTimesHalvingIsLinearithmic() {
        check("""
            n = int(input())
            total = 0
            for i in range(n):
                k = i
                while k > 0: 1️⃣
                    k //= 2
                    total += 1
            print(total)
            """, .linearithmic)
    }

    @Test func backtrackingOverSubsetsIsExponential() {
        check("""
            def subsets(a, i, cur, out):
                if i == len(a):
                    out.append(list(cur))
                    return
                cur.append(a[i])
                subsets(a, i + 1, cur, out) 1️⃣
                cur.pop()
                subsets(a, i + 1, cur, out)
            """, .exponential, function: "subsets")
    }

    @Test func syntaxErrorCostsOnlyItsStatement() {
        let source = """
            def ok(a):
                for x in a:
                    pass
            x = = 3
            def also_ok(n):
                return n
            """
        let report = Analyzer.analyze(source: source)
        #expect(report.errors.map(\.line) == [4])
        #expect(report.functions.map(\.name) == ["ok", "also_ok"])
        #expect(report.functions.first?.class == .linear)
    }

    @Test func unsupportedLanguageIsNotGuessed() {
        let report = Analyzer.analyze(source: "fn main() { }", language: "rust")
        #expect(!report.analysed)
        #expect(report.overall == nil)
        #expect(report.message == "not analysed: unsupported language 'rust'")
    }

    @Test func functionReportsCarrySpansAndNotes() {
        let source = """
            def f(a):
                for x in a:
                    b = sorted(a)
                return 0
            """
        let report = Analyzer.analyze(source: source)
        let f = report.functions.first
        #expect(f?.startLine == 1)
        #expect(f?.endLine == 4)
        #expect(f?.loopDepth == 1)
        #expect(f?.notes.contains("sorted() inside loop at line 3") == true)
    }
}
