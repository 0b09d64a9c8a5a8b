# technique: type(name, bases, dict) with a dunder-filled dict
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: classes
# expect: refused
C = type('C', (), {'x': 1})
