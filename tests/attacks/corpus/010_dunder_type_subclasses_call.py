# technique: type.__subclasses__(object) unbound call
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: dunder
# expect: refused
subs = type.__subclasses__(object)
print('ESCAPED', len(subs))
