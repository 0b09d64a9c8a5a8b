# technique: decorator from a subscript: @[print][0]
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: classes
# expect: refused
@[print][0]
def g():
    pass
