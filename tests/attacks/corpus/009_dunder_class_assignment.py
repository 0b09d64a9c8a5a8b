# technique: swap an object's __class__
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: dunder
# expect: refused
class Mine:
    pass
m = Mine()
m.__class__ = type(context)
