# technique: dunder hooks (__getattr__, __format__, __del__) planted through a run-time class dict: only the model's own objects ever reach them
# source: smolagents issue #2395
# category: classes
# expect: ok
t = type
d = '_' * 2
H = t('H', (), {d + 'getattr' + d: lambda s, n: n, d + 'format' + d: lambda s, spec: 'fmt:' + spec})
h = H()
print(h.anything, format(h, 'x'))
