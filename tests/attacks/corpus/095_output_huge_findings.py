# technique: HOLE (fixed): FINDING with 5 MB fields, 1000 times
# source: found by this corpus
# category: output
# expect: error
for i in range(1000):
    FINDING('n' * 5_000_000, 'critical', 's' * 5_000_000, list(range(10**5)))
