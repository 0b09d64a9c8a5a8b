# technique: LineList / Hits / ContextView classes via type(): patch a public method (the model only fools itself)
# source: issue brief
# category: context
# expect: ok
V = type(context)
V.grep = lambda self, *a, **k: 'patched'
L = type(context.lines(1, 2))
L.start = 99
print(context.grep('ECC'), context.count('ECC'))
