# technique: hasattr/dir probing with runtime-built dunder names (only booleans and names come back)
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: builtins
# expect: ok
d = '_' * 2
print(hasattr(context, d + 'class' + d), hasattr(context, '_ctx'))
print([n for n in dir(context)][:5])
