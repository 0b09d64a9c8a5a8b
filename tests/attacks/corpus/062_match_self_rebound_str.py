# technique: HOLE (fixed): rebind `str` to a crafted class in one step, then `case str(v)` in the next
# source: found by this corpus
# category: match
# expect: ok
# then: ```repl\nmatch llm_query:\n    case str(g):\n        print('ESCAPED', g['os'])\n```
# expect-later: refused
t = type
d = '_' * 2
M = t('M', (type,), {d + 'instancecheck' + d: lambda s, o: True})
str = M('S', (), {d + 'match_args' + d: (d + 'globals' + d,)})
