# technique: repr of a million-deep nested list
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: recursion
# expect: error
x = []
for i in range(1_000_000):
    x = [x]
print(x)
