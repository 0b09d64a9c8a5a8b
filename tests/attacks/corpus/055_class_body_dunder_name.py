# technique: __class__ cell and __init_subclass__ inside a class body
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: classes
# expect: refused
class A:
    def f(self):
        return __class__
    def __init_subclass__(cls):
        pass
