# technique: format spec with a huge width ({:>2000000000})
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: memory
# expect: stopped
w = '{:>' + str(3 * 10**9) + '}'
s = w.format('x')
print(len(s))
