# technique: string-built code without compile(): string annotations and forward references handed to dataclasses, typing.NamedTuple and typing.Optional, hoping library code evaluates them
# source: CTF pyjail write-ups (typing.get_type_hints evaluates annotations)
# category: builtins
# expect: ok
import dataclasses, typing
payload = "print('ESC' + 'APED') or int"
D = dataclasses.make_dataclass('D', [('a', payload)])
print(D(1), dataclasses.fields(D)[0].type)
N = typing.NamedTuple('N', [('a', payload)])
print(N(2))
print(typing.Optional[payload], typing.List[payload])
