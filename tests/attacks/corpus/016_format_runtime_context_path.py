# technique: format string built at run time reading context's real object (repr only)
# source: Ronacher, 'Be careful with str.format' (lucumr.pocoo.org, 2016); smolagents PR #2271
# category: format
# expect: ok
f = '{0.' + '_' + 'ctx.path}'
print(f.format(context))
