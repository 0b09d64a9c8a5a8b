# technique: object.__subclasses__() walk to os._wrap_close.__init__.__globals__
# source: McKellar, 'Building and breaking a Python sandbox' (PyCon 2014)
# category: dunder
# expect: refused
for c in ().__class__.__bases__[0].__subclasses__():
    if c.__name__ == '_wrap_close':
        os = c.__init__.__globals__
        os['system']('touch @@CANARY_OUT@@')
        print('ESCAPED')
