# technique: ''.__class__.__mro__[1] then __subclasses__
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: dunder
# expect: refused
base = ''.__class__.__mro__[-1]
print('ESCAPED', len(base.__subclasses__()))
