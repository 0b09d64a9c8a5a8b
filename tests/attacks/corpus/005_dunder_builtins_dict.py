# technique: __builtins__ mapping: open and __import__
# source: McKellar, 'Building and breaking a Python sandbox' (PyCon 2014)
# category: builtins
# expect: refused
b = __builtins__
b['open']('@@CANARY_OUT@@', 'w').write('x')
os = b['__import__']('os')

# payload, if a road above handed out `os`:
fd = os.open('@@CANARY_OUT@@', os.O_CREAT | os.O_WRONLY)
os.system('touch @@CANARY_IN@@')
print('ESCAPED', os.environ.get('@@SECRET_NAME@@'))
