# technique: a list that grows until memory runs out (pages touched)
# source: McKellar, 'Building and breaking a Python sandbox' (PyCon 2014)
# category: memory
# expect: stopped
keep = []
while True:
    keep.append(b'x' * (64 * 1024**2))
