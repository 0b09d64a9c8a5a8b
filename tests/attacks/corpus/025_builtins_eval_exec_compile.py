# technique: eval / exec / compile
# source: McKellar, 'Building and breaking a Python sandbox' (PyCon 2014)
# category: builtins
# expect: refused
eval("__import__('os').system('touch @@CANARY_OUT@@')")
exec("import os")
compile('1', 'x', 'eval')
