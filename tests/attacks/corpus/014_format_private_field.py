# technique: format field reaching a private attribute of context
# source: Ronacher, 'Be careful with str.format' (lucumr.pocoo.org, 2016); smolagents PR #2271
# category: format
# expect: refused
print('{0._ctx._mm}'.format(context))
