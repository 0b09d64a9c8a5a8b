# technique: '{0.__class__.__base__.__subclasses__}'.format(...)
# source: Ronacher, 'Be careful with str.format' (lucumr.pocoo.org, 2016); smolagents PR #2271
# category: format
# expect: refused
print('{0.__class__.__base__.__subclasses__}'.format(()))
