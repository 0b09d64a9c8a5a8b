# technique: class X(metaclass=M) with __getattr__ tricks
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: classes
# expect: refused
class M(type):
    pass
class X(metaclass=M):
    pass
