# technique: super() proxy walk to object internals
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: dunder
# expect: refused
class A:
    def leak(self):
        return super().__init__.__globals__
print('ESCAPED', A().leak())
