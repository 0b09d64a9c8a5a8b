# technique: repr of a 200,000-deep nested list
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: recursion
# expect: error
x = []
for i in range(200_000):
    x = [x]
print(x)
