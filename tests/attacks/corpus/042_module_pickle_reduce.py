# technique: pickle.loads of a __reduce__ payload
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: modules
# expect: refused
import pickle
pickle.loads(b"cos\nsystem\n(S'touch @@CANARY_OUT@@'\ntR.")
