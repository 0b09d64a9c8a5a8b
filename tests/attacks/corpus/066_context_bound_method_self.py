# technique: bound method __self__ / __func__.__globals__ of context.grep
# source: issue brief
# category: context
# expect: refused
real = context.grep.__self__
g = context.line.__func__.__globals__
print('ESCAPED', real, g)
