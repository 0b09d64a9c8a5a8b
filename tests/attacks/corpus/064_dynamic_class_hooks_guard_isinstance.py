# technique: a run-time `__class__` property that loops forever, planted in the namespace where the worker's own guard calls isinstance on it before every step
# source: smolagents issue #2395 (dunder time bombs)
# category: hooks
# expect: ok
# then: ```repl\nprint('next step')\n```
# expect-later: restarted
t = type
d = '_' * 2
def spin(self):
    while True:
        pass
T = t('T', (), {d + 'class' + d: property(spin)})
trap = T()
