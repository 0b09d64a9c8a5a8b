# technique: walk an allowed module copy for module-valued or denied attributes at run time
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: modules
# expect: ok
import json, typing, dataclasses, fnmatch, statistics, re
mods = [json, typing, dataclasses, fnmatch, statistics, re]
leaks = [n for m in mods for n in dir(m) if n in ('os', 'sys', 'codecs', 'builtins', 'attrgetter', 'get_type_hints', 'Formatter')]
print('leaked names:', leaks)
