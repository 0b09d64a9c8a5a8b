# technique: decorator expression: @(lambda f: f.__globals__)
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: classes
# expect: refused
@(lambda f: f)
def g():
    pass
