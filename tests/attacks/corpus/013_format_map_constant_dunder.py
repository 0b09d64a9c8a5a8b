# technique: format_map with a dunder field
# source: Ronacher, 'Be careful with str.format' (lucumr.pocoo.org, 2016); smolagents PR #2271
# category: format
# expect: refused
print('{x.__init__.__globals__}'.format_map({'x': llm_query}))
