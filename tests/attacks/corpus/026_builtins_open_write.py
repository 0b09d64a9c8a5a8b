# technique: open() a file for writing (outside and inside the data dir)
# source: McKellar, 'Building and breaking a Python sandbox' (PyCon 2014)
# category: filesystem
# expect: refused
open('@@CANARY_OUT@@', 'w').write('x')
open('@@CANARY_IN@@', 'w').write('x')
