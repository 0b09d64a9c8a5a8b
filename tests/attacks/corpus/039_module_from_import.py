# technique: from os import system; from sys import modules
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: modules
# expect: refused
from os import system
from sys import modules
system('touch @@CANARY_OUT@@')
