# technique: huge integer power in one C call (10**(10**8))
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: cpu
# expect: restarted
x = 10 ** (10 ** 8)
