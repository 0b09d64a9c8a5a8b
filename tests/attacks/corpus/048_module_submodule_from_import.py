# technique: from json import decoder; decoder.scanstring internals
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: modules
# expect: refused
from json import decoder
print('ESCAPED', decoder)
