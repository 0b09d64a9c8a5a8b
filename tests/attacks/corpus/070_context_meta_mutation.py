# technique: mutate context.meta to lie about the size (worker-local)
# source: issue brief
# category: context
# expect: ok
context.meta['lines'] = 10**12
print(context.line_count)
