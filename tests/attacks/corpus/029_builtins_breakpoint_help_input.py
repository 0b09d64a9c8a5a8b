# technique: breakpoint() / help() / input() (pdb and pydoc read files, spawn pagers)
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: builtins
# expect: refused
breakpoint()
help(context)
input('>')
