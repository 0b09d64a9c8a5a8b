# technique: HOLE (fixed): the same getattr road built from dataclasses.make_dataclass (field names are checked only with isidentifier)
# source: found by this corpus
# category: match
# expect: refused
import dataclasses
d = '_' * 2
M = dataclasses.make_dataclass('M', [], bases=(type,), init=False, repr=False, eq=False,
                               namespace={d + 'instancecheck' + d: lambda s, o: True})
B = M('B', (), {})
C = dataclasses.make_dataclass('C', [d + 'globals' + d], bases=(B,))
match llm_query:
    case C(g):
        os = g['os']

# payload, if a road above handed out `os`:
fd = os.open('@@CANARY_OUT@@', os.O_CREAT | os.O_WRONLY)
os.system('touch @@CANARY_IN@@')
print('ESCAPED', os.environ.get('@@SECRET_NAME@@'))
