# technique: Chunk._context to the real Context
# source: issue brief
# category: context
# expect: refused
ch = context.chunks(lines=100)[0]
print('ESCAPED', ch._context.path)
