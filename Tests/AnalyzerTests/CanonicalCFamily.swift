import CodeSyncAnalyzer

/// Textbook programs of known class, written fresh for these tests, per C-family language. Each
/// entry names the function scored; the class is the textbook one for that algorithm with n the
/// input's size (or value, for number-theoretic routines).
enum CanonicalCFamily {
    struct Program {
        var label: String
        var function: String
        var source: String
    }

    static func samples(_ language: String, _ programs: [Program]) -> [AccuracySample] {
        programs.enumerated().map { i, p in
            AccuracySample(id: "\(language)-\(i)-\(p.function)", language: language, label: p.label, source: p.source, example_call: "\(p.function)()")
        }
    }

    static func java(_ label: String, _ function: String, _ body: String) -> Program {
        Program(label: label, function: function, source: "import java.util.*;\n\npublic class Main {\n" + body + "\n}\n")
    }

    static let javaPrograms: [Program] = [
        java("O(1)", "ends", "    static int ends(int[] a) {\n        return a[0] + a[a.length - 1];\n    }"),
        java("O(1)", "triangle", "    static long triangle(long n) {\n        return n * (n + 1) / 2;\n    }"),
        java("O(1)", "letters", "    static int letters(String s) {\n        int[] c = new int[26];\n        int k = 0;\n        for (int i = 0; i < 26; i++) {\n            if (c[i] == 0) k++;\n        }\n        return k;\n    }"),
        java("O(log n)", "search", "    static int search(int[] a, int x) {\n        int lo = 0, hi = a.length - 1;\n        while (lo <= hi) {\n            int mid = (lo + hi) / 2;\n            if (a[mid] == x) return mid;\n            if (a[mid] < x) lo = mid + 1; else hi = mid - 1;\n        }\n        return -1;\n    }"),
        java("O(log n)", "bits", "    static int bits(int n) {\n        int c = 0;\n        while (n > 0) {\n            c += n & 1;\n            n >>= 1;\n        }\n        return c;\n    }"),
        java("O(log n)", "power", "    static long power(long b, long e) {\n        if (e == 0) return 1;\n        long h = power(b, e / 2);\n        return e % 2 == 0 ? h * h : h * h * b;\n    }"),
        java("O(log n)", "gcd", "    static int gcd(int a, int b) {\n        while (b != 0) {\n            int t = a % b;\n            a = b;\n            b = t;\n        }\n        return a;\n    }"),
        java("O(sqrt n)", "isPrime", "    static boolean isPrime(int n) {\n        for (int i = 2; i * i <= n; i++) {\n            if (n % i == 0) return false;\n        }\n        return n > 1;\n    }"),
        java("O(n)", "sum", "    static long sum(int[] a) {\n        long s = 0;\n        for (int x : a) s += x;\n        return s;\n    }"),
        java("O(n)", "max", "    static int max(int[] a) {\n        int m = a[0];\n        for (int i = 1; i < a.length; i++) m = Math.max(m, a[i]);\n        return m;\n    }"),
        java("O(n)", "reverse", "    static void reverse(int[] a) {\n        int i = 0, j = a.length - 1;\n        while (i < j) {\n            int t = a[i]; a[i] = a[j]; a[j] = t;\n            i++;\n            j--;\n        }\n    }"),
        java("O(n)", "prefix", "    static long[] prefix(int[] a) {\n        long[] p = new long[a.length + 1];\n        for (int i = 0; i < a.length; i++) p[i + 1] = p[i] + a[i];\n        return p;\n    }"),
        java("O(n)", "find", "    static int find(int[] a, int x) {\n        for (int i = 0; i < a.length; i++) {\n            if (a[i] == x) return i;\n        }\n        return -1;\n    }"),
        java("O(n)", "fact", "    static long fact(int n) {\n        if (n <= 1) return 1;\n        return n * fact(n - 1);\n    }"),
        java("O(n)", "fib", "    static long[] memo = new long[100];\n    static long fib(int n) {\n        if (n < 2) return n;\n        if (memo[n] != 0) return memo[n];\n        memo[n] = fib(n - 1) + fib(n - 2);\n        return memo[n];\n    }"),
        java("O(n)", "freq", "    static Map<Integer, Integer> freq(int[] a) {\n        Map<Integer, Integer> m = new HashMap<>();\n        for (int x : a) m.put(x, m.getOrDefault(x, 0) + 1);\n        return m;\n    }"),
        java("O(n)", "kadane", "    static long kadane(int[] a) {\n        long best = a[0], cur = 0;\n        for (int x : a) {\n            cur = Math.max(x, cur + x);\n            best = Math.max(best, cur);\n        }\n        return best;\n    }"),
        java("O(n log n)", "sortedGaps", "    static int sortedGaps(int[] a) {\n        Arrays.sort(a);\n        int best = Integer.MAX_VALUE;\n        for (int i = 1; i < a.length; i++) best = Math.min(best, a[i] - a[i - 1]);\n        return best;\n    }"),
        java("O(n log n)", "mergeSort", "    static void mergeSort(int[] a, int lo, int hi) {\n        if (hi - lo < 2) return;\n        int mid = (lo + hi) / 2;\n        mergeSort(a, lo, mid);\n        mergeSort(a, mid, hi);\n        int[] t = new int[hi - lo];\n        int i = lo, j = mid, k = 0;\n        while (i < mid && j < hi) t[k++] = a[i] <= a[j] ? a[i++] : a[j++];\n        while (i < mid) t[k++] = a[i++];\n        while (j < hi) t[k++] = a[j++];\n        for (k = 0; k < t.length; k++) a[lo + k] = t[k];\n    }"),
        java("O(n log n)", "doubling", "    static int doubling(int n) {\n        int c = 0;\n        for (int i = 0; i < n; i++) {\n            for (int j = 1; j < n; j *= 2) c++;\n        }\n        return c;\n    }"),
        java("O(n log n)", "heapSort", "    static int[] heapSort(int[] a) {\n        PriorityQueue<Integer> pq = new PriorityQueue<>();\n        for (int x : a) pq.add(x);\n        int[] out = new int[a.length];\n        for (int i = 0; i < a.length; i++) out[i] = pq.poll();\n        return out;\n    }"),
        java("O(n log n)", "distinctSorted", "    static int distinctSorted(int[] a) {\n        TreeSet<Integer> s = new TreeSet<>();\n        for (int x : a) s.add(x);\n        return s.size();\n    }"),
        java("O(n^2)", "bubble", "    static void bubble(int[] a) {\n        for (int i = 0; i < a.length; i++)\n            for (int j = 0; j + 1 < a.length - i; j++)\n                if (a[j] > a[j + 1]) { int t = a[j]; a[j] = a[j + 1]; a[j + 1] = t; }\n    }"),
        java("O(n^2)", "pairs", "    static int pairs(int[] a, int k) {\n        int c = 0;\n        for (int i = 0; i < a.length; i++)\n            for (int j = i + 1; j < a.length; j++)\n                if (a[i] + a[j] == k) c++;\n        return c;\n    }"),
        java("O(n^2)", "insertion", "    static void insertion(int[] a) {\n        for (int i = 1; i < a.length; i++) {\n            int x = a[i], j = i - 1;\n            while (j >= 0 && a[j] > x) {\n                a[j + 1] = a[j];\n                j--;\n            }\n            a[j + 1] = x;\n        }\n    }"),
        java("O(n^2)", "dedupe", "    static List<Integer> dedupe(int[] a) {\n        List<Integer> out = new ArrayList<>();\n        for (int x : a) {\n            if (!out.contains(x)) out.add(x);\n        }\n        return out;\n    }"),
        java("O(n^2)", "grid", "    static int[][] grid(int n) {\n        int[][] g = new int[n][n];\n        for (int i = 0; i < n; i++)\n            for (int j = 0; j < n; j++) g[i][j] = i * j;\n        return g;\n    }"),
        java("O(n^3)", "multiply", "    static int[][] multiply(int[][] a, int[][] b) {\n        int n = a.length;\n        int[][] c = new int[n][n];\n        for (int i = 0; i < n; i++)\n            for (int j = 0; j < n; j++)\n                for (int k = 0; k < n; k++) c[i][j] += a[i][k] * b[k][j];\n        return c;\n    }"),
        java("O(n^3)", "floyd", "    static void floyd(int[][] d) {\n        int n = d.length;\n        for (int k = 0; k < n; k++)\n            for (int i = 0; i < n; i++)\n                for (int j = 0; j < n; j++)\n                    if (d[i][k] + d[k][j] < d[i][j]) d[i][j] = d[i][k] + d[k][j];\n    }"),
        java("O(2^n)", "slowFib", "    static long slowFib(int n) {\n        if (n < 2) return n;\n        return slowFib(n - 1) + slowFib(n - 2);\n    }"),
        java("O(2^n)", "subsets", "    static int subsets(int[] a, int target) {\n        int n = a.length, c = 0;\n        for (int mask = 0; mask < (1 << n); mask++) {\n            int s = 0;\n            for (int i = 0; i < n; i++) if ((mask >> i & 1) == 1) s += a[i];\n            if (s == target) c++;\n        }\n        return c;\n    }"),
    ]
}

extension CanonicalCFamily {
    static func c(_ label: String, _ function: String, _ body: String) -> Program {
        Program(label: label, function: function, source: "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n" + body + "\n")
    }

    static let cPrograms: [Program] = [
        c("O(1)", "ends", "int ends(int *a, int n) {\n    return a[0] + a[n - 1];\n}"),
        c("O(1)", "triangle", "long long triangle(long long n) {\n    return n * (n + 1) / 2;\n}"),
        c("O(1)", "letters", "int letters(const char *s) {\n    int c[26] = {0}, k = 0;\n    for (int i = 0; i < 26; i++)\n        if (c[i] == 0) k++;\n    return k;\n}"),
        c("O(log n)", "search", "int search(int *a, int n, int x) {\n    int lo = 0, hi = n - 1;\n    while (lo <= hi) {\n        int mid = lo + (hi - lo) / 2;\n        if (a[mid] == x) return mid;\n        if (a[mid] < x) lo = mid + 1;\n        else hi = mid - 1;\n    }\n    return -1;\n}"),
        c("O(log n)", "bits", "int bits(unsigned n) {\n    int c = 0;\n    while (n) {\n        c += n & 1;\n        n >>= 1;\n    }\n    return c;\n}"),
        c("O(log n)", "power", "long long power(long long b, long long e) {\n    long long r = 1;\n    while (e > 0) {\n        if (e & 1) r *= b;\n        b *= b;\n        e /= 2;\n    }\n    return r;\n}"),
        c("O(log n)", "gcd", "int gcd(int a, int b) {\n    return b == 0 ? a : gcd(b, a % b);\n}"),
        c("O(sqrt n)", "isPrime", "int isPrime(int n) {\n    if (n < 2) return 0;\n    for (int i = 2; i * i <= n; i++)\n        if (n % i == 0) return 0;\n    return 1;\n}"),
        c("O(n)", "sum", "long long sum(int *a, int n) {\n    long long s = 0;\n    for (int i = 0; i < n; i++) s += a[i];\n    return s;\n}"),
        c("O(n)", "maxOf", "int maxOf(int *a, int n) {\n    int m = a[0];\n    for (int i = 1; i < n; ++i)\n        if (a[i] > m) m = a[i];\n    return m;\n}"),
        c("O(n)", "reverse", "void reverse(int *a, int n) {\n    for (int i = 0, j = n - 1; i < j; i++, j--) {\n        int t = a[i];\n        a[i] = a[j];\n        a[j] = t;\n    }\n}"),
        c("O(n)", "prefix", "void prefix(int *a, long long *p, int n) {\n    p[0] = 0;\n    for (int i = 0; i < n; i++) p[i + 1] = p[i] + a[i];\n}"),
        c("O(n)", "find", "int find(int *a, int n, int x) {\n    for (int i = 0; i < n; i++)\n        if (a[i] == x) return i;\n    return -1;\n}"),
        c("O(n)", "fact", "long long fact(int n) {\n    if (n <= 1) return 1;\n    return n * fact(n - 1);\n}"),
        c("O(n)", "length", "int length(const char *s) {\n    int n = 0;\n    while (s[n] != '\\0') n++;\n    return n;\n}"),
        c("O(n)", "countDigits", "void countDigits(const char *s, int n, int *cnt) {\n    for (int i = 0; i < n; i++) cnt[s[i] - '0']++;\n}"),
        c("O(n)", "kadane", "long long kadane(int *a, int n) {\n    long long best = a[0], cur = 0;\n    for (int i = 0; i < n; i++) {\n        cur = cur + a[i] > a[i] ? cur + a[i] : a[i];\n        if (cur > best) best = cur;\n    }\n    return best;\n}"),
        c("O(n log n)", "sortedGaps", "int cmp(const void *x, const void *y) { return *(const int *)x - *(const int *)y; }\nint sortedGaps(int *a, int n) {\n    qsort(a, n, sizeof(int), cmp);\n    int best = 1 << 30;\n    for (int i = 1; i < n; i++)\n        if (a[i] - a[i - 1] < best) best = a[i] - a[i - 1];\n    return best;\n}"),
        c("O(n log n)", "mergeSort", "void mergeSort(int *a, int *t, int lo, int hi) {\n    if (hi - lo < 2) return;\n    int mid = (lo + hi) / 2;\n    mergeSort(a, t, lo, mid);\n    mergeSort(a, t, mid, hi);\n    int i = lo, j = mid, k = lo;\n    while (i < mid && j < hi) t[k++] = a[i] <= a[j] ? a[i++] : a[j++];\n    while (i < mid) t[k++] = a[i++];\n    while (j < hi) t[k++] = a[j++];\n    for (k = lo; k < hi; k++) a[k] = t[k];\n}"),
        c("O(n log n)", "doubling", "int doubling(int n) {\n    int c = 0;\n    for (int i = 0; i < n; i++)\n        for (int j = 1; j < n; j *= 2) c++;\n    return c;\n}"),
        c("O(n log n)", "harmonic", "int harmonic(int n) {\n    int c = 0;\n    for (int i = 1; i <= n; i++)\n        for (int j = i; j <= n; j += i) c++;\n    return c;\n}"),
        c("O(n log n)", "searchAll", "int bsearch1(int *a, int n, int x) {\n    int lo = 0, hi = n;\n    while (lo < hi) {\n        int mid = (lo + hi) / 2;\n        if (a[mid] < x) lo = mid + 1; else hi = mid;\n    }\n    return lo;\n}\nint searchAll(int *a, int n) {\n    int s = 0;\n    for (int i = 0; i < n; i++) s += bsearch1(a, n, a[i]);\n    return s;\n}"),
        c("O(n^2)", "bubble", "void bubble(int *a, int n) {\n    for (int i = 0; i < n; i++)\n        for (int j = 0; j + 1 < n - i; j++)\n            if (a[j] > a[j + 1]) { int t = a[j]; a[j] = a[j + 1]; a[j + 1] = t; }\n}"),
        c("O(n^2)", "pairs", "int pairs(int *a, int n, int k) {\n    int c = 0;\n    for (int i = 0; i < n; i++)\n        for (int j = i + 1; j < n; j++)\n            if (a[i] + a[j] == k) c++;\n    return c;\n}"),
        c("O(n^2)", "insertion", "void insertion(int *a, int n) {\n    for (int i = 1; i < n; i++) {\n        int x = a[i], j = i - 1;\n        while (j >= 0 && a[j] > x) {\n            a[j + 1] = a[j];\n            j--;\n        }\n        a[j + 1] = x;\n    }\n}"),
        c("O(n^2)", "upper", "void upper(char *s) {\n    for (int i = 0; i < strlen(s); i++)\n        if (s[i] >= 'a' && s[i] <= 'z') s[i] -= 32;\n}"),
        c("O(n^2)", "selection", "void selection(int *a, int n) {\n    for (int i = 0; i < n; i++) {\n        int m = i;\n        for (int j = i + 1; j < n; j++)\n            if (a[j] < a[m]) m = j;\n        int t = a[i]; a[i] = a[m]; a[m] = t;\n    }\n}"),
        c("O(n^3)", "multiply", "void multiply(int n, int a[n][n], int b[n][n], int c[n][n]) {\n    for (int i = 0; i < n; i++)\n        for (int j = 0; j < n; j++) {\n            c[i][j] = 0;\n            for (int k = 0; k < n; k++) c[i][j] += a[i][k] * b[k][j];\n        }\n}"),
        c("O(n^3)", "triples", "int triples(int *a, int n) {\n    int c = 0;\n    for (int i = 0; i < n; i++)\n        for (int j = i + 1; j < n; j++)\n            for (int k = j + 1; k < n; k++)\n                if (a[i] + a[j] + a[k] == 0) c++;\n    return c;\n}"),
        c("O(2^n)", "slowFib", "long long slowFib(int n) {\n    if (n < 2) return n;\n    return slowFib(n - 1) + slowFib(n - 2);\n}"),
        c("O(2^n)", "subsets", "int subsets(int *a, int n, int target) {\n    int c = 0;\n    for (int mask = 0; mask < (1 << n); mask++) {\n        int s = 0;\n        for (int i = 0; i < n; i++)\n            if (mask >> i & 1) s += a[i];\n        if (s == target) c++;\n    }\n    return c;\n}"),
    ]

    static func cpp(_ label: String, _ function: String, _ body: String) -> Program {
        Program(label: label, function: function, source: "#include <bits/stdc++.h>\nusing namespace std;\n\n" + body + "\n")
    }

    static let cppPrograms: [Program] = [
        cpp("O(1)", "ends", "int ends(const vector<int>& a) {\n    return a.front() + a.back();\n}"),
        cpp("O(1)", "triangle", "long long triangle(long long n) {\n    return n * (n + 1) / 2;\n}"),
        cpp("O(1)", "letters", "int letters(const string& s) {\n    array<int, 26> c{};\n    int k = 0;\n    for (int i = 0; i < 26; ++i)\n        if (c[i] == 0) ++k;\n    return k;\n}"),
        cpp("O(log n)", "search", "int search(const vector<int>& a, int x) {\n    int lo = 0, hi = (int)a.size() - 1;\n    while (lo <= hi) {\n        int mid = (lo + hi) >> 1;\n        if (a[mid] == x) return mid;\n        if (a[mid] < x) lo = mid + 1; else hi = mid - 1;\n    }\n    return -1;\n}"),
        cpp("O(log n)", "bits", "int bits(long long n) {\n    int c = 0;\n    while (n > 0) {\n        c += n & 1;\n        n /= 2;\n    }\n    return c;\n}"),
        cpp("O(log n)", "power", "long long power(long long b, long long e, long long m) {\n    if (e == 0) return 1 % m;\n    long long h = power(b, e / 2, m);\n    h = h * h % m;\n    return e % 2 ? h * b % m : h;\n}"),
        cpp("O(log n)", "lowerBound", "int lowerBound(const vector<int>& a, int x) {\n    return lower_bound(a.begin(), a.end(), x) - a.begin();\n}"),
        cpp("O(sqrt n)", "divisors", "int divisors(long long n) {\n    int c = 0;\n    for (long long i = 1; i * i <= n; ++i)\n        if (n % i == 0) c += (i * i == n) ? 1 : 2;\n    return c;\n}"),
        cpp("O(n)", "sum", "long long sum(const vector<int>& a) {\n    long long s = 0;\n    for (int x : a) s += x;\n    return s;\n}"),
        cpp("O(n)", "maxOf", "int maxOf(const vector<int>& a) {\n    return *max_element(a.begin(), a.end());\n}"),
        cpp("O(n)", "reversed", "vector<int> reversed(vector<int> a) {\n    reverse(a.begin(), a.end());\n    return a;\n}"),
        cpp("O(n)", "prefix", "vector<long long> prefix(const vector<int>& a) {\n    vector<long long> p(a.size() + 1, 0);\n    for (size_t i = 0; i < a.size(); ++i) p[i + 1] = p[i] + a[i];\n    return p;\n}"),
        cpp("O(n)", "find", "int find(const vector<int>& a, int x) {\n    for (size_t i = 0; i < a.size(); ++i)\n        if (a[i] == x) return i;\n    return -1;\n}"),
        cpp("O(n)", "fact", "long long fact(int n) {\n    return n <= 1 ? 1 : n * fact(n - 1);\n}"),
        cpp("O(n)", "freq", "unordered_map<int, int> freq(const vector<int>& a) {\n    unordered_map<int, int> m;\n    for (int x : a) m[x]++;\n    return m;\n}"),
        cpp("O(n)", "hasPair", "bool hasPair(const vector<int>& a, int k) {\n    unordered_set<int> seen;\n    for (int x : a) {\n        if (seen.count(k - x)) return true;\n        seen.insert(x);\n    }\n    return false;\n}"),
        cpp("O(n)", "stackDepth", "int stackDepth(const string& s) {\n    stack<char> st;\n    int best = 0;\n    for (char c : s) {\n        if (c == '(') st.push(c); else if (!st.empty()) st.pop();\n        best = max(best, (int)st.size());\n    }\n    return best;\n}"),
        cpp("O(n log n)", "sortedGaps", "int sortedGaps(vector<int> a) {\n    sort(a.begin(), a.end());\n    int best = INT_MAX;\n    for (size_t i = 1; i < a.size(); ++i) best = min(best, a[i] - a[i - 1]);\n    return best;\n}"),
        cpp("O(n log n)", "mergeSort", "void mergeSort(vector<int>& a, int lo, int hi) {\n    if (hi - lo < 2) return;\n    int mid = (lo + hi) / 2;\n    mergeSort(a, lo, mid);\n    mergeSort(a, mid, hi);\n    inplace_merge(a.begin() + lo, a.begin() + mid, a.begin() + hi);\n}"),
        cpp("O(n log n)", "distinct", "int distinct(const vector<int>& a) {\n    set<int> s;\n    for (int x : a) s.insert(x);\n    return s.size();\n}"),
        cpp("O(n log n)", "heapSort", "vector<int> heapSort(const vector<int>& a) {\n    priority_queue<int, vector<int>, greater<int>> pq;\n    for (int x : a) pq.push(x);\n    vector<int> out;\n    while (!pq.empty()) {\n        out.push_back(pq.top());\n        pq.pop();\n    }\n    return out;\n}"),
        cpp("O(n log n)", "counts", "map<int, int> counts(const vector<int>& a) {\n    map<int, int> m;\n    for (int x : a) m[x]++;\n    return m;\n}"),
        cpp("O(n^2)", "bubble", "void bubble(vector<int>& a) {\n    int n = a.size();\n    for (int i = 0; i < n; ++i)\n        for (int j = 0; j + 1 < n - i; ++j)\n            if (a[j] > a[j + 1]) swap(a[j], a[j + 1]);\n}"),
        cpp("O(n^2)", "pairs", "int pairs(const vector<int>& a, int k) {\n    int c = 0, n = a.size();\n    for (int i = 0; i < n; ++i)\n        for (int j = i + 1; j < n; ++j)\n            if (a[i] + a[j] == k) ++c;\n    return c;\n}"),
        cpp("O(n^2)", "lcs", "int lcs(const string& a, const string& b) {\n    int n = a.size(), m = b.size();\n    vector<vector<int>> dp(n + 1, vector<int>(m + 1, 0));\n    for (int i = 1; i <= n; ++i)\n        for (int j = 1; j <= m; ++j)\n            dp[i][j] = a[i - 1] == b[j - 1] ? dp[i - 1][j - 1] + 1 : max(dp[i - 1][j], dp[i][j - 1]);\n    return dp[n][m];\n}"),
        cpp("O(n^2)", "frontInsert", "vector<int> frontInsert(const vector<int>& a) {\n    vector<int> out;\n    for (int x : a) out.insert(out.begin(), x);\n    return out;\n}"),
        cpp("O(n^2)", "lis", "int lis(const vector<int>& a) {\n    int n = a.size(), best = 0;\n    vector<int> d(n, 1);\n    for (int i = 0; i < n; ++i) {\n        for (int j = 0; j < i; ++j)\n            if (a[j] < a[i]) d[i] = max(d[i], d[j] + 1);\n        best = max(best, d[i]);\n    }\n    return best;\n}"),
        cpp("O(n^3)", "multiply", "vector<vector<long long>> multiply(const vector<vector<long long>>& a, const vector<vector<long long>>& b) {\n    int n = a.size();\n    vector<vector<long long>> c(n, vector<long long>(n));\n    for (int i = 0; i < n; ++i)\n        for (int j = 0; j < n; ++j)\n            for (int k = 0; k < n; ++k) c[i][j] += a[i][k] * b[k][j];\n    return c;\n}"),
        cpp("O(n^3)", "floyd", "void floyd(vector<vector<int>>& d) {\n    int n = d.size();\n    for (int k = 0; k < n; ++k)\n        for (int i = 0; i < n; ++i)\n            for (int j = 0; j < n; ++j)\n                d[i][j] = min(d[i][j], d[i][k] + d[k][j]);\n}"),
        cpp("O(2^n)", "slowFib", "long long slowFib(int n) {\n    return n < 2 ? n : slowFib(n - 1) + slowFib(n - 2);\n}"),
        cpp("O(2^n)", "subsets", "void subsets(const vector<int>& a, int i, vector<int>& cur, vector<vector<int>>& out) {\n    if (i == (int)a.size()) { out.push_back(cur); return; }\n    subsets(a, i + 1, cur, out);\n    cur.push_back(a[i]);\n    subsets(a, i + 1, cur, out);\n    cur.pop_back();\n}"),
    ]
}

extension CanonicalCFamily {
    static func go(_ label: String, _ function: String, _ body: String) -> Program {
        Program(label: label, function: function, source: "package main\n\nimport (\n\t\"fmt\"\n\t\"sort\"\n)\n\n" + body + "\n")
    }

    static let goPrograms: [Program] = [
        go("O(1)", "ends", "func ends(a []int) int {\n\treturn a[0] + a[len(a)-1]\n}"),
        go("O(1)", "triangle", "func triangle(n int64) int64 {\n\treturn n * (n + 1) / 2\n}"),
        go("O(1)", "letters", "func letters(s string) int {\n\tvar c [26]int\n\tk := 0\n\tfor i := 0; i < 26; i++ {\n\t\tif c[i] == 0 {\n\t\t\tk++\n\t\t}\n\t}\n\treturn k\n}"),
        go("O(log n)", "search", "func search(a []int, x int) int {\n\tlo, hi := 0, len(a)-1\n\tfor lo <= hi {\n\t\tmid := (lo + hi) / 2\n\t\tif a[mid] == x {\n\t\t\treturn mid\n\t\t}\n\t\tif a[mid] < x {\n\t\t\tlo = mid + 1\n\t\t} else {\n\t\t\thi = mid - 1\n\t\t}\n\t}\n\treturn -1\n}"),
        go("O(log n)", "bits", "func bits(n uint) int {\n\tc := 0\n\tfor n > 0 {\n\t\tc += int(n & 1)\n\t\tn >>= 1\n\t}\n\treturn c\n}"),
        go("O(log n)", "power", "func power(b, e int64) int64 {\n\tif e == 0 {\n\t\treturn 1\n\t}\n\th := power(b, e/2)\n\tif e%2 == 0 {\n\t\treturn h * h\n\t}\n\treturn h * h * b\n}"),
        go("O(log n)", "find", "func find(a []int, x int) int {\n\treturn sort.SearchInts(a, x)\n}"),
        go("O(sqrt n)", "isPrime", "func isPrime(n int) bool {\n\tfor i := 2; i*i <= n; i++ {\n\t\tif n%i == 0 {\n\t\t\treturn false\n\t\t}\n\t}\n\treturn n > 1\n}"),
        go("O(n)", "sum", "func sum(a []int) int {\n\ts := 0\n\tfor _, x := range a {\n\t\ts += x\n\t}\n\treturn s\n}"),
        go("O(n)", "maxOf", "func maxOf(a []int) int {\n\tm := a[0]\n\tfor i := 1; i < len(a); i++ {\n\t\tif a[i] > m {\n\t\t\tm = a[i]\n\t\t}\n\t}\n\treturn m\n}"),
        go("O(n)", "reverse", "func reverse(a []int) {\n\tfor i, j := 0, len(a)-1; i < j; i, j = i+1, j-1 {\n\t\ta[i], a[j] = a[j], a[i]\n\t}\n}"),
        go("O(n)", "prefix", "func prefix(a []int) []int {\n\tp := make([]int, len(a)+1)\n\tfor i, x := range a {\n\t\tp[i+1] = p[i] + x\n\t}\n\treturn p\n}"),
        go("O(n)", "index", "func index(a []int, x int) int {\n\tfor i := range a {\n\t\tif a[i] == x {\n\t\t\treturn i\n\t\t}\n\t}\n\treturn -1\n}"),
        go("O(n)", "fact", "func fact(n int) int {\n\tif n <= 1 {\n\t\treturn 1\n\t}\n\treturn n * fact(n-1)\n}"),
        go("O(n)", "freq", "func freq(a []int) map[int]int {\n\tm := make(map[int]int)\n\tfor _, x := range a {\n\t\tm[x]++\n\t}\n\treturn m\n}"),
        go("O(n)", "evens", "func evens(a []int) []int {\n\tvar out []int\n\tfor _, x := range a {\n\t\tif x%2 == 0 {\n\t\t\tout = append(out, x)\n\t\t}\n\t}\n\treturn out\n}"),
        go("O(n)", "kadane", "func kadane(a []int) int {\n\tbest, cur := a[0], 0\n\tfor _, x := range a {\n\t\tif cur+x > x {\n\t\t\tcur += x\n\t\t} else {\n\t\t\tcur = x\n\t\t}\n\t\tif cur > best {\n\t\t\tbest = cur\n\t\t}\n\t}\n\treturn best\n}"),
        go("O(n log n)", "sortedGaps", "func sortedGaps(a []int) int {\n\tsort.Ints(a)\n\tbest := 1 << 62\n\tfor i := 1; i < len(a); i++ {\n\t\tif a[i]-a[i-1] < best {\n\t\t\tbest = a[i] - a[i-1]\n\t\t}\n\t}\n\treturn best\n}"),
        go("O(n log n)", "mergeSort", "func mergeSort(a []int) []int {\n\tif len(a) < 2 {\n\t\treturn a\n\t}\n\tmid := len(a) / 2\n\tl := mergeSort(a[:mid])\n\tr := mergeSort(a[mid:])\n\tout := make([]int, 0, len(a))\n\ti, j := 0, 0\n\tfor i < len(l) && j < len(r) {\n\t\tif l[i] <= r[j] {\n\t\t\tout = append(out, l[i])\n\t\t\ti++\n\t\t} else {\n\t\t\tout = append(out, r[j])\n\t\t\tj++\n\t\t}\n\t}\n\tout = append(out, l[i:]...)\n\treturn append(out, r[j:]...)\n}"),
        go("O(n log n)", "doubling", "func doubling(n int) int {\n\tc := 0\n\tfor i := 0; i < n; i++ {\n\t\tfor j := 1; j < n; j *= 2 {\n\t\t\tc++\n\t\t}\n\t}\n\treturn c\n}"),
        go("O(n log n)", "byLength", "func byLength(words []string) {\n\tsort.Slice(words, func(i, j int) bool { return len(words[i]) < len(words[j]) })\n}"),
        go("O(n log n)", "harmonic", "func harmonic(n int) int {\n\tc := 0\n\tfor i := 1; i <= n; i++ {\n\t\tfor j := i; j <= n; j += i {\n\t\t\tc++\n\t\t}\n\t}\n\treturn c\n}"),
        go("O(n^2)", "bubble", "func bubble(a []int) {\n\tn := len(a)\n\tfor i := 0; i < n; i++ {\n\t\tfor j := 0; j+1 < n-i; j++ {\n\t\t\tif a[j] > a[j+1] {\n\t\t\t\ta[j], a[j+1] = a[j+1], a[j]\n\t\t\t}\n\t\t}\n\t}\n}"),
        go("O(n^2)", "pairs", "func pairs(a []int, k int) int {\n\tc := 0\n\tfor i := range a {\n\t\tfor j := i + 1; j < len(a); j++ {\n\t\t\tif a[i]+a[j] == k {\n\t\t\t\tc++\n\t\t\t}\n\t\t}\n\t}\n\treturn c\n}"),
        go("O(n^2)", "insertion", "func insertion(a []int) {\n\tfor i := 1; i < len(a); i++ {\n\t\tx, j := a[i], i-1\n\t\tfor j >= 0 && a[j] > x {\n\t\t\ta[j+1] = a[j]\n\t\t\tj--\n\t\t}\n\t\ta[j+1] = x\n\t}\n}"),
        go("O(n^2)", "grid", "func grid(n int) [][]int {\n\tg := make([][]int, n)\n\tfor i := 0; i < n; i++ {\n\t\tg[i] = make([]int, n)\n\t\tfor j := 0; j < n; j++ {\n\t\t\tg[i][j] = i * j\n\t\t}\n\t}\n\treturn g\n}"),
        go("O(n^2)", "selection", "func selection(a []int) {\n\tfor i := 0; i < len(a); i++ {\n\t\tm := i\n\t\tfor j := i + 1; j < len(a); j++ {\n\t\t\tif a[j] < a[m] {\n\t\t\t\tm = j\n\t\t\t}\n\t\t}\n\t\ta[i], a[m] = a[m], a[i]\n\t}\n}"),
        go("O(n^3)", "multiply", "func multiply(a, b [][]int) [][]int {\n\tn := len(a)\n\tc := make([][]int, n)\n\tfor i := 0; i < n; i++ {\n\t\tc[i] = make([]int, n)\n\t\tfor j := 0; j < n; j++ {\n\t\t\tfor k := 0; k < n; k++ {\n\t\t\t\tc[i][j] += a[i][k] * b[k][j]\n\t\t\t}\n\t\t}\n\t}\n\treturn c\n}"),
        go("O(n^3)", "triples", "func triples(a []int) int {\n\tc := 0\n\tfor i := 0; i < len(a); i++ {\n\t\tfor j := i + 1; j < len(a); j++ {\n\t\t\tfor k := j + 1; k < len(a); k++ {\n\t\t\t\tif a[i]+a[j]+a[k] == 0 {\n\t\t\t\t\tc++\n\t\t\t\t}\n\t\t\t}\n\t\t}\n\t}\n\treturn c\n}"),
        go("O(2^n)", "slowFib", "func slowFib(n int) int {\n\tif n < 2 {\n\t\treturn n\n\t}\n\treturn slowFib(n-1) + slowFib(n-2)\n}"),
        go("O(2^n)", "subsets", "func subsets(a []int, target int) int {\n\tn, c := len(a), 0\n\tfor mask := 0; mask < 1<<n; mask++ {\n\t\ts := 0\n\t\tfor i := 0; i < n; i++ {\n\t\t\tif mask>>i&1 == 1 {\n\t\t\t\ts += a[i]\n\t\t\t}\n\t\t}\n\t\tif s == target {\n\t\t\tc++\n\t\t}\n\t}\n\tfmt.Println(c)\n\treturn c\n}"),
    ]

    static func js(_ label: String, _ function: String, _ body: String) -> Program {
        Program(label: label, function: function, source: "'use strict';\n\n" + body + "\n")
    }

    static let jsPrograms: [Program] = [
        js("O(1)", "ends", "function ends(a) {\n  return a[0] + a[a.length - 1];\n}"),
        js("O(1)", "triangle", "function triangle(n) {\n  return (n * (n + 1)) / 2;\n}"),
        js("O(1)", "letters", "function letters(s) {\n  const c = new Array(26).fill(0);\n  let k = 0;\n  for (let i = 0; i < 26; i++) {\n    if (c[i] === 0) k++;\n  }\n  return k;\n}"),
        js("O(log n)", "search", "function search(a, x) {\n  let lo = 0, hi = a.length - 1;\n  while (lo <= hi) {\n    const mid = (lo + hi) >> 1;\n    if (a[mid] === x) return mid;\n    if (a[mid] < x) lo = mid + 1;\n    else hi = mid - 1;\n  }\n  return -1;\n}"),
        js("O(log n)", "bits", "function bits(n) {\n  let c = 0;\n  while (n > 0) {\n    c += n & 1;\n    n = Math.floor(n / 2);\n  }\n  return c;\n}"),
        js("O(log n)", "power", "function power(b, e) {\n  if (e === 0) return 1;\n  const h = power(b, Math.floor(e / 2));\n  return e % 2 === 0 ? h * h : h * h * b;\n}"),
        js("O(log n)", "gcd", "const gcd = (a, b) => (b === 0 ? a : gcd(b, a % b));"),
        js("O(sqrt n)", "isPrime", "function isPrime(n) {\n  for (let i = 2; i * i <= n; i++) {\n    if (n % i === 0) return false;\n  }\n  return n > 1;\n}"),
        js("O(n)", "sum", "function sum(a) {\n  let s = 0;\n  for (const x of a) s += x;\n  return s;\n}"),
        js("O(n)", "maxOf", "function maxOf(a) {\n  let m = a[0];\n  for (let i = 1; i < a.length; i++) if (a[i] > m) m = a[i];\n  return m;\n}"),
        js("O(n)", "reverse", "function reverse(a) {\n  for (let i = 0, j = a.length - 1; i < j; i++, j--) {\n    [a[i], a[j]] = [a[j], a[i]];\n  }\n}"),
        js("O(n)", "prefix", "function prefix(a) {\n  const p = [0];\n  for (let i = 0; i < a.length; i++) p.push(p[i] + a[i]);\n  return p;\n}"),
        js("O(n)", "find", "function find(a, x) {\n  return a.indexOf(x);\n}"),
        js("O(n)", "fact", "function fact(n) {\n  return n <= 1 ? 1 : n * fact(n - 1);\n}"),
        js("O(n)", "freq", "function freq(a) {\n  const m = new Map();\n  for (const x of a) m.set(x, (m.get(x) || 0) + 1);\n  return m;\n}"),
        js("O(n)", "hasPair", "function hasPair(a, k) {\n  const seen = new Set();\n  for (const x of a) {\n    if (seen.has(k - x)) return true;\n    seen.add(x);\n  }\n  return false;\n}"),
        js("O(n)", "doubled", "function doubled(a) {\n  return a.map((x) => x * 2);\n}"),
        js("O(n log n)", "sortedGaps", "function sortedGaps(a) {\n  a.sort((x, y) => x - y);\n  let best = Infinity;\n  for (let i = 1; i < a.length; i++) best = Math.min(best, a[i] - a[i - 1]);\n  return best;\n}"),
        js("O(n log n)", "mergeSort", "function mergeSort(a) {\n  if (a.length < 2) return a;\n  const mid = a.length >> 1;\n  const l = mergeSort(a.slice(0, mid));\n  const r = mergeSort(a.slice(mid));\n  const out = [];\n  let i = 0, j = 0;\n  while (i < l.length && j < r.length) out.push(l[i] <= r[j] ? l[i++] : r[j++]);\n  return out.concat(l.slice(i), r.slice(j));\n}"),
        js("O(n log n)", "doubling", "function doubling(n) {\n  let c = 0;\n  for (let i = 0; i < n; i++) {\n    for (let j = 1; j < n; j *= 2) c++;\n  }\n  return c;\n}"),
        js("O(n log n)", "harmonic", "function harmonic(n) {\n  let c = 0;\n  for (let i = 1; i <= n; i++) {\n    for (let j = i; j <= n; j += i) c++;\n  }\n  return c;\n}"),
        js("O(n log n)", "byLength", "function byLength(words) {\n  return [...words].sort((a, b) => a.length - b.length);\n}"),
        js("O(n^2)", "bubble", "function bubble(a) {\n  for (let i = 0; i < a.length; i++) {\n    for (let j = 0; j + 1 < a.length - i; j++) {\n      if (a[j] > a[j + 1]) [a[j], a[j + 1]] = [a[j + 1], a[j]];\n    }\n  }\n}"),
        js("O(n^2)", "pairs", "function pairs(a, k) {\n  let c = 0;\n  for (let i = 0; i < a.length; i++) {\n    for (let j = i + 1; j < a.length; j++) {\n      if (a[i] + a[j] === k) c++;\n    }\n  }\n  return c;\n}"),
        js("O(n^2)", "common", "function common(a, b) {\n  const out = [];\n  for (const x of a) {\n    if (b.includes(x)) out.push(x);\n  }\n  return out;\n}"),
        js("O(n^2)", "frontInsert", "function frontInsert(a) {\n  const out = [];\n  for (const x of a) out.unshift(x);\n  return out;\n}"),
        js("O(n^2)", "insertion", "function insertion(a) {\n  for (let i = 1; i < a.length; i++) {\n    const x = a[i];\n    let j = i - 1;\n    while (j >= 0 && a[j] > x) {\n      a[j + 1] = a[j];\n      j--;\n    }\n    a[j + 1] = x;\n  }\n}"),
        js("O(n^3)", "multiply", "function multiply(a, b) {\n  const n = a.length;\n  const c = [];\n  for (let i = 0; i < n; i++) {\n    c.push(new Array(n).fill(0));\n    for (let j = 0; j < n; j++) {\n      for (let k = 0; k < n; k++) c[i][j] += a[i][k] * b[k][j];\n    }\n  }\n  return c;\n}"),
        js("O(n^3)", "triples", "function triples(a) {\n  let c = 0;\n  for (let i = 0; i < a.length; i++)\n    for (let j = i + 1; j < a.length; j++)\n      for (let k = j + 1; k < a.length; k++)\n        if (a[i] + a[j] + a[k] === 0) c++;\n  return c;\n}"),
        js("O(2^n)", "slowFib", "function slowFib(n) {\n  if (n < 2) return n;\n  return slowFib(n - 1) + slowFib(n - 2);\n}"),
        js("O(2^n)", "subsets", "function subsets(a, target) {\n  const n = a.length;\n  let c = 0;\n  for (let mask = 0; mask < 1 << n; mask++) {\n    let s = 0;\n    for (let i = 0; i < n; i++) if ((mask >> i) & 1) s += a[i];\n    if (s === target) c++;\n  }\n  return c;\n}"),
    ]
}
