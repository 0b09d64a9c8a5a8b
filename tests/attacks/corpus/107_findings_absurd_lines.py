# technique: HOLE (fixed): FINDING citing a line number past 64 bits made the worker's JSON encoder fail and the worker die (variables lost); an endless iterator of lines filled memory
# source: found by this corpus
# category: output
# expect: ok
import itertools
FINDING('node01', 'critical', 'x', [10**30, float('inf'), 2**63, -1, 0])
FINDING('node02', 'critical', 'y', itertools.count(10**6))
