# technique: FINAL with a 50 MB value
# source: issue brief
# category: output
# expect: ok
# final: any
FINAL('f' * 50_000_000)
