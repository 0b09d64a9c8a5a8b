# technique: __context__ / __cause__ of a worker exception
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: frames
# expect: refused
try:
    llm_query_batched('not a list')
except Exception as e:
    print('ESCAPED', e.__context__)
