# technique: HOLE (fixed): an exception message of 100 MB went back unbounded (and ended the run: root prompt too long)
# source: found by this corpus
# category: output
# expect: error
raise ValueError('A' * 100_000_000)
