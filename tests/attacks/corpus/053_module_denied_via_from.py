# technique: from functools import wraps / from operator import methodcaller
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: modules
# expect: refused
from functools import update_wrapper
from operator import methodcaller
