# technique: read the parent's environment: scrubbed worker env via the format road
# source: issue brief
# category: environment
# expect: ok
d = '_' * 2
env = ('{0.' + d + 'globals' + d + '[os].environ}').format(llm_query)
print(env)
print('@@SECRET_NAME@@' in env)
