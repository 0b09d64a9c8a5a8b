# technique: unbounded Python recursion
# source: McKellar, 'Building and breaking a Python sandbox' (PyCon 2014)
# category: recursion
# expect: error
def f(n):
    return f(n + 1)
f(0)
