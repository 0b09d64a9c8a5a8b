# technique: importlib.import_module('os')
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: modules
# expect: refused
import importlib
os = importlib.import_module('os')

# payload, if a road above handed out `os`:
fd = os.open('@@CANARY_OUT@@', os.O_CREAT | os.O_WRONLY)
os.system('touch @@CANARY_IN@@')
print('ESCAPED', os.environ.get('@@SECRET_NAME@@'))
