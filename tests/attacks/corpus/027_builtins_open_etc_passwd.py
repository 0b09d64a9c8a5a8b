# technique: read /etc/passwd with open()
# source: McKellar, 'Building and breaking a Python sandbox' (PyCon 2014)
# category: filesystem
# expect: refused
print('ESCAPED', open('/etc/passwd').read())
