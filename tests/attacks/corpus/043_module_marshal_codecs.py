# technique: marshal code objects and codecs.open
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: modules
# expect: refused
import marshal, codecs
codecs.open('@@CANARY_OUT@@', 'w').write('x')
