# technique: raise KeyboardInterrupt to look like Ctrl-C
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: process
# expect: error
raise KeyboardInterrupt
