# technique: context._ctx, ._mm, ._file, .path (the real Context)
# source: issue brief
# category: context
# expect: refused
ctx = context._ctx
print('ESCAPED', ctx.path, ctx._file)
