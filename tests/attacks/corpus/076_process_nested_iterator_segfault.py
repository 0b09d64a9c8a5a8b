# technique: C stack overflow: a million nested map() iterators crash the worker (SIGSEGV)
# source: CPython issue 'deeply nested iterators crash' (no recursion guard in map_next)
# category: process
# expect: restarted
it = iter([1])
for i in range(1_000_000):
    it = map(abs, it)
print(next(it))
