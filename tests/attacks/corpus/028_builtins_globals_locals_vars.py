# technique: globals() / locals() / vars() to reach __builtins__
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: builtins
# expect: refused
print(globals()['__builtins__'])
print(vars(llm_query))
print(locals())
