# technique: inspect.currentframe().f_back
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: modules
# expect: refused
import inspect
print('ESCAPED', inspect.currentframe().f_back.f_globals)
