# technique: memoryview() (raw buffer access)
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: builtins
# expect: refused
m = memoryview(b'abc')
