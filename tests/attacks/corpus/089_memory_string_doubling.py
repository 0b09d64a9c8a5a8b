# technique: string doubling: s += s
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: memory
# expect: stopped
s = 'x'
while True:
    s += s
