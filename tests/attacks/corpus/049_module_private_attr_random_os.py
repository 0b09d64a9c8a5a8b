# technique: random._os / random._urandom private module attributes
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: modules
# expect: refused
import random
random._os.system('touch @@CANARY_OUT@@')
