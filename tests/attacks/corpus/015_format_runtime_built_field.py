# technique: format string built at run time reaching worker globals (repr only)
# source: Ronacher, 'Be careful with str.format' (lucumr.pocoo.org, 2016); smolagents PR #2271; langflow PR #13880
# category: format
# expect: ok
d = '_' * 2
f = '{0.' + d + 'globals' + d + '[os].environ}'
print(f.format(llm_query))   # a string: the worker's scrubbed environment
