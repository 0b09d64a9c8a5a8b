# technique: while True: pass
# source: McKellar, 'Building and breaking a Python sandbox' (PyCon 2014)
# category: cpu
# expect: restarted
while True:
    pass
