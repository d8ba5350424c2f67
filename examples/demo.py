"""A few functions of different cost, for trying CodeSync's complexity pane and Ctrl-R runs."""


def first(items):
    return items[0] if items else None


def total(items):
    result = 0
    for x in items:
        result += x
    return result


def has_duplicates(items):
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if items[i] == items[j]:
                return True
    return False


def binary_search(items, target):
    lo, hi = 0, len(items) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if items[mid] == target:
            return mid
        if items[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


if __name__ == "__main__":
    data = list(range(20))
    print("first:", first(data))
    print("total:", total(data))
    print("duplicates:", has_duplicates(data + [3]))
    print("found 13 at", binary_search(data, 13))
    print("fib(20) =", fib(20))
