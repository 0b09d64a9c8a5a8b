# technique: HOLE (fixed): a lone surrogate (chr(0xD800), e.g. built from a hex field of a hostile log) in printed output, an error, a finding or FINAL made the worker's JSON encoder fail: the worker died and every variable was lost
# source: found by this corpus
# category: protocol
# expect: ok
# final: any
field = 'd800'
bad = 'node' + chr(int(field, 16))
print(bad)
FINDING(bad, 'info', bad, [1])
try:
    llm_query(bad)
except Exception as e:
    print(str(e)[:60])
FINAL(bad)
