# technique: exit() / raise SystemExit / KeyboardInterrupt to kill the worker
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: process
# expect: error
raise SystemExit(3)
