# technique: gc.get_referrers / get_objects to find the worker's globals
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: modules
# expect: refused
import gc
for o in gc.get_objects():
    if isinstance(o, dict) and 'os' in o:
        o['os'].system('touch @@CANARY_OUT@@')
